"""Optional: where the app workers' CPU goes during a benchmark phase, from py-spy (`bench/redemptions.py --py-spy`).

py-spy samples each worker process (`record --format raw --nonblocking`, idle threads left out, so the samples
are CPU time or time blocked inside a call, not time parked in the event loop's epoll wait). Compiled code (asyncpg's
protocol, uvloop) counts as self time of the Python frame that called it. (`--native` is not offered: it has to
pause the process for every sample, which cuts the throughput several times over and counts the epoll wait.)
The summary gives self time by package and by function, and inclusive time of the project's own frames.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from common import Service, log

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
PROJECT_PACKAGES = ("merchants", "points_service", "admin")


def package_of(path: str) -> str:
    """'sqlalchemy' for .../site-packages/sqlalchemy/orm/x.py or sqlalchemy/orm/x.py (py-spy shortens paths to
    the sys.path entry), 'merchants' for /work/main/merchants/x.py, 'asyncio' for .../lib/python3.11/asyncio/x.py,
    'weakref' for weakref.py."""
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    else:
        for package in PROJECT_PACKAGES:
            if f"/{package}/" in path:
                return package
        match = re.search(r"/python3\.\d+/(.+)$", path)
        if match:
            path = match.group(1)
    return path.split("/", 1)[0].removesuffix(".py") or "?"


def parse_frame(frame: str) -> tuple[str, str]:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    return match.group("function"), match.group("file")


def summarize(raw_files: list[Path], top: int = 15) -> dict[str, Any]:
    total = 0
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for path in raw_files:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = [parse_frame(frame) for frame in stack.split(";") if frame]
            if not frames:
                continue
            total += count
            function, file = frames[-1]
            package = package_of(file)
            by_package[package] += count
            by_function[f"{function} ({package}: {Path(file).name})"] += count
            seen = set()
            for function, file in frames:
                package = package_of(file)
                if package in PROJECT_PACKAGES:
                    label = f"{function} ({file.split(package + '/', 1)[-1]})"
                    if label not in seen:
                        seen.add(label)
                        inclusive[label] += count

    def shares(counter: Counter[str]) -> dict[str, float]:
        return {key: round(100 * n / max(total, 1), 1) for key, n in counter.most_common(top)}

    packages = shares(by_package)
    return {
        "samples": total,
        "self_by_package_pct": packages,
        "self_by_function_pct": shares(by_function),
        "inclusive_project_frames_pct": shares(inclusive),
        "headline": f"{total} samples; self time by package: "
        + ", ".join(f"{package} {pct:.0f}%" for package, pct in list(packages.items())[:8]),
    }


class PySpy:
    def __init__(self, binary: Path, service: Service, out_dir: Path, rate: int = 100) -> None:
        self.binary = binary
        self.service = service
        self.out_dir = out_dir
        self.rate = rate
        self.summaries: dict[str, Any] = {}
        self._running: dict[str, list[tuple[subprocess.Popen[bytes], Path]]] = {}
        out_dir.mkdir(parents=True, exist_ok=True)

    def start(self, phase: str, duration: int) -> None:
        pids = self.service.worker_pids()
        started = []
        for pid in pids:
            output = self.out_dir / f"{phase}-{pid}.txt"
            command = [
                str(self.binary),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(duration),
                "--rate",
                str(self.rate),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(output),
            ]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
            started.append((process, output))
        log(f"py-spy: recording {phase} on workers {pids} for {duration}s")
        self._running[phase] = started

    def collect(self, phase: str) -> None:
        outputs = []
        errors = []
        for process, output in self._running.pop(phase, []):
            try:
                _, stderr = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.terminate()
                _, stderr = process.communicate()
            if process.returncode != 0:
                errors.append(stderr.decode(errors="replace").strip()[-300:])
            outputs.append(output)
        summary = summarize(outputs)
        if errors and not summary["samples"]:
            summary = {"error": "; ".join(errors)}
        self.summaries[phase] = summary
        log(f"py-spy {phase}: {summary.get('headline', summary.get('error'))}")


def print_profiles(profile: dict[str, Any] | None, functions: int = 6) -> None:
    """Per profiled phase: self time by package, and the project frames that take the most (inclusive)."""
    for phase, summary in (profile or {}).items():
        if "error" in summary:
            print(f"py-spy, app workers during {phase}: {summary['error']}")
            continue
        print(f"py-spy, app workers during {phase}: {summary['headline']}")
        frames = list(summary["inclusive_project_frames_pct"].items())[:functions]
        if frames:
            print("    project frames (inclusive): " + "; ".join(f"{frame} {pct:.0f}%" for frame, pct in frames))
