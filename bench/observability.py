"""What the metrics, request ids and access log cost: awards/s and balance reads/s with POINTS_METRICS on and off.

Run from the project root:

    .venv/bin/python bench/observability.py [--rounds 2] [--duration 15] [--members 2000]

It starts two services, one with POINTS_METRICS=on and one with off, loads the same community into each (as
bench/run.py does), then measures them in turn, alternating on, off, off, on, on, off, ... so a drift of
the shared machine (other work, the database warming up) falls on both sides alike. Each phase measures
awards, then balance reads, with wrk. It prints each phase's figures, the mean per setting and the ratio
off/on minus one: the cost. Then the app workers' CPU per answer, on/off minus one: the same cost, less at
the mercy of other work on a shared machine. Figures only; nothing asserts. The issue's target: under 5%
for both.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # bench/ is no package
    BENCH_DIR,
    Service,
    admin_token,
    log,
    login_members,
    require_wrk,
    write_lua_table,
)
from run import RULE_CODE, load_community, run_phase

TARGET = 0.05


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--logins", type=int, default=50, help="members whose tokens read balances")
    parser.add_argument("--sub-units", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of phases, one on and one off (default 2)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk measurement (default 15)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    args.diagnose = False  # run.run_phase's database-wait sampler: not wanted here
    return args


def order(rounds: int) -> list[str]:
    """on off, off on, on off, ...: each setting goes first as often as the other."""
    return [setting for index in range(rounds) for setting in (("on", "off") if index % 2 == 0 else ("off", "on"))]


def middleware_cpu_us() -> float:
    answer = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(BENCH_DIR / "middleware_cost.py")], capture_output=True, text=True, check=True
    )
    return float(answer.stdout.split("MIDDLEWARE_CPU_US")[1].split()[0])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not require_wrk():
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="rp-bench-observability-"))
    # One service per setting, each started once and loaded alike: a restart between phases is what a
    # busy machine stumbles on (workers that miss uvicorn's start-up health check, killed in a loop).
    services = {
        setting: Service(work_dir / setting, args.workers, work_dir / f"server-{setting}.log")
        for setting in ("on", "off")
    }
    figures: dict[str, dict[str, list[float]]] = {setting: {} for setting in services}
    loadavg = [Path("/proc/loadavg").read_text().split()[:3]]
    middleware_us = middleware_cpu_us()
    log(f"the middleware alone: {middleware_us:.1f} µs of CPU per request (bench/middleware_cost.py)")
    try:
        members: dict[str, tuple[Path, list[str]]] = {}
        for setting, service in services.items():
            service.extra_env = {"POINTS_METRICS": setting}
            service.start(timeout=600)
            community = asyncio.run(
                load_community(service.base_url, args.members, args.logins, args.sub_units, 32, args.seed)
            )
            write_lua_table(work_dir / f"member_ids-{setting}.lua", community.member_ids)
            members[setting] = (work_dir / f"member_ids-{setting}.lua", community.login_usernames)
        for setting in order(args.rounds):
            service = services[setting]
            ids_file, usernames = members[setting]
            tokens_file = work_dir / f"member_tokens-{setting}.lua"
            # Fresh tokens each phase: an access token lives 15 minutes at most, a run may take longer.
            token = admin_token(service.base_url)
            write_lua_table(tokens_file, asyncio.run(login_members(service.base_url, usernames, 16)))
            results: dict[str, Any] = {
                "awards": run_phase(f"awards, metrics {setting}", service, "award", ids_file, [token, RULE_CODE], args),
                "reads": run_phase(f"balance reads, metrics {setting}", service, "balance", tokens_file, [], args),
            }
            for kind, result in results.items():
                if result["non_2xx"] or result["socket_error_count"]:
                    log(f"{kind} with metrics {setting}: {result['non_2xx']} non-2xx answers; figures not comparable")
                    return 1
                figures[setting].setdefault(kind, []).append(result["ok_rps"])
                # The app workers' CPU per answer: what the middleware adds, even when other work on the
                # machine takes the cores and the throughput with them.
                app_ms = 1000 * result["cpu_cores"].get("app", 0.0) / max(result["ok_rps"], 1e-9)
                figures[setting].setdefault(f"{kind} app CPU ms", []).append(app_ms)
        loadavg.append(Path("/proc/loadavg").read_text().split()[:3])
    finally:
        for service in services.values():
            service.stop()
        shutil.rmtree(work_dir, ignore_errors=True)

    print()
    print(f"load average before and after: {' '.join(loadavg[0])} / {' '.join(loadavg[-1])}")
    print(f"{'':22}{'metrics on (per phase)':>30}{'metrics off (per phase)':>30}{'cost':>8}")
    for kind in ("awards", "reads"):
        on, off = figures["on"][kind], figures["off"][kind]
        cost = statistics.mean(off) / statistics.mean(on) - 1
        verdict = "met" if cost < TARGET else "missed"
        print(
            f"{kind + '/s':22}{' '.join(f'{value:.0f}' for value in on):>30}"
            f"{' '.join(f'{value:.0f}' for value in off):>30}{cost:>8.1%}  (target < {TARGET:.0%}: {verdict})"
        )
        key = f"{kind} app CPU ms"
        on, off = figures["on"][key], figures["off"][key]
        print(
            f"{key:22}{' '.join(f'{value:.2f}' for value in on):>30}"
            f"{' '.join(f'{value:.2f}' for value in off):>30}{statistics.mean(on) / statistics.mean(off) - 1:>8.1%}"
        )
        share = middleware_us / (1000 * statistics.mean(off))
        print(f"{'':22}the middleware's {middleware_us:.1f} µs per request: {share:.1%} of the app's CPU per answer")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    log(f"done in {time.monotonic() - started:.0f}s")
    sys.exit(code)
