"""The embedded default behaves like a service (docs/operations.md): `points-service serve` ended by
SIGTERM (what `kill` and process managers send) or SIGINT (Ctrl-C) leaves no PostgreSQL or Valkey of its
data folder running; a start after `kill -9` runs exactly one of each again; a second service on a
folder in use refuses to start, while a command run beside it uses its servers.

Each `serve` is real, in a process of its own, on a data folder of its own; it takes a few seconds to start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import psutil
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def working_in(folder: Path) -> list[psutil.Process]:
    """The processes whose command line names the folder: the embedded PostgreSQL's and Valkey's."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and str(folder) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def valkeys_in(folder: Path) -> list[psutil.Process]:
    """Valkey names only its address on its command line; it runs in its data folder."""
    found = []
    for process in psutil.process_iter():
        try:
            if "valkey" in process.name() and Path(process.cwd()).is_relative_to(folder):
                found.append(process)
        except psutil.Error:
            continue
    return found


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A folder of its own, not under pytest's tmp_path: the embedded PostgreSQL runs as another user
    when the tests run as root, and a pytest session started meanwhile (another checkout's) makes
    pytest's shared base folder private again, and may delete older sessions' folders."""
    with tempfile.TemporaryDirectory(prefix="red-points-signals-") as parent:
        folder = Path(parent).resolve() / "data"
        yield folder
        _stop_everything_on(folder)


def _stop_everything_on(folder: Path) -> None:
    # Whatever a failed assert left running on the folder: the services, then their servers.
    for service in Serve.started:
        with contextlib.suppress(psutil.Error):
            for worker in service.workers():
                worker.kill()
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()
    Serve.started.clear()
    for leftover in [*working_in(folder), *valkeys_in(folder)]:
        with contextlib.suppress(psutil.Error):
            leftover.kill()


def embedded_environment(data_dir: Path) -> dict[str, str]:
    """This environment on the embedded default (no server URLs), with `data_dir` as its data folder."""
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    environment["POINTS_DATA_DIR"] = str(data_dir)
    return environment


class Serve:
    """`points-service serve` on a data folder, its output in a log of its own."""

    started: ClassVar[list[Serve]] = []

    def __init__(self, data_dir: Path, log: Path, port: int | None = None, workers: int = 1) -> None:
        self.port = port or free_port()
        self.log = log
        environment = embedded_environment(data_dir)
        environment.update(POINTS_PORT=str(self.port), POINTS_DAILY_WARNINGS_AT="off")
        with log.open("wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter's own command, fixed arguments
                [str(Path(sys.executable).parent / "points-service"), "serve", "--workers", str(workers)],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started.append(self)

    def ready(self) -> bool:
        return answers(f"http://127.0.0.1:{self.port}/health/ready")

    def workers(self) -> list[psutil.Process]:
        return [
            child for child in psutil.Process(self.process.pid).children() if "spawn_main" in " ".join(child.cmdline())
        ]

    def wait_ready(self) -> None:
        assert wait_until(lambda: self.ready() or self.process.poll() is not None, 120), self.log.read_text()
        assert self.ready(), self.log.read_text()


def postmasters_in(folder: Path) -> list[psutil.Process]:
    """The postmaster names its data folder on its command line (`postgres -D <folder>/postgres`)."""
    return [process for process in working_in(folder) if process.name() == "postgres"]


def points_service_command(data_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter's own command, fixed arguments
        [str(Path(sys.executable).parent / "points-service"), *arguments],
        env=embedded_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_second_service_on_a_folder_in_use_refuses_and_sigint_stops_the_first(data_dir: Path) -> None:
    first = Serve(data_dir, data_dir.parent / "first.log")
    first.wait_ready()
    servers = [*postmasters_in(data_dir), *valkeys_in(data_dir)]

    # A command run beside the service (the tour's `demo`, the operator's daily `reconcile`) works on
    # the service's own servers: it is not refused, starts none of its own, and stops none on its way out.
    beside = points_service_command(data_dir, "reconcile")
    assert beside.returncode == 0, beside.stdout + beside.stderr
    assert "ledger reconciles" in beside.stdout, beside.stdout
    assert first.ready()
    assert [*postmasters_in(data_dir), *valkeys_in(data_dir)] == servers

    second = Serve(data_dir, data_dir.parent / "second.log")
    assert second.process.wait(timeout=60) != 0
    message = (data_dir.parent / "second.log").read_text()
    assert str(data_dir) in message, message
    assert f"PID {first.process.pid}" in message, message
    assert first.ready()
    assert [*postmasters_in(data_dir), *valkeys_in(data_dir)] == servers
    assert len(servers) == 2

    first.process.send_signal(signal.SIGINT)
    first.process.wait(timeout=60)

    assert wait_until(lambda: not any(alive(p) for p in servers), 30), servers
    # With the service gone, a command starts the servers for itself again, and stops them after.
    alone = points_service_command(data_dir, "reconcile")
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert not [*postmasters_in(data_dir), *valkeys_in(data_dir)]


def test_a_start_after_kill_9_runs_one_postgres_and_one_valkey_and_sigterm_stops_them(data_dir: Path) -> None:
    killed = Serve(data_dir, data_dir.parent / "killed.log", workers=2)
    killed.wait_ready()
    workers = killed.workers()
    assert len(workers) == 2
    killed.process.kill()
    killed.process.wait(timeout=10)
    assert postmasters_in(data_dir), "kill -9 stopped the embedded PostgreSQL: nothing left over to test"
    # The workers end with their supervisor, so the port is free for the next start.
    assert wait_until(lambda: not any(alive(worker) for worker in workers), 60), workers

    restarted = Serve(data_dir, data_dir.parent / "restarted.log", port=killed.port)
    restarted.wait_ready()

    postgres, valkey = postmasters_in(data_dir), valkeys_in(data_dir)
    assert len(postgres) == 1, postgres
    assert len(valkey) == 1, valkey

    restarted.process.send_signal(signal.SIGTERM)
    restarted.process.wait(timeout=60)
    assert wait_until(lambda: not any(alive(p) for p in [*postgres, *valkey]), 30), [*postgres, *valkey]
