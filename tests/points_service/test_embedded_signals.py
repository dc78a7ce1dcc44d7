"""The embedded default stops with the service (docs/operations.md): `points-service serve` ended by
SIGTERM, what `kill` and process managers send, leaves no PostgreSQL or Valkey of its data folder running.

A real `serve` in a process of its own, on a data folder of its own; it takes a few seconds to start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil


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


def test_sigterm_stops_the_service_and_its_embedded_servers(tmp_path: Path) -> None:
    data_dir = (tmp_path / "data").resolve()
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    environment.update(POINTS_DATA_DIR=str(data_dir), POINTS_PORT=str(port), POINTS_DAILY_WARNINGS_AT="off")
    with (tmp_path / "serve.log").open("wb") as log:
        service = subprocess.Popen(  # noqa: S603 - this interpreter's own command, fixed arguments
            [str(Path(sys.executable).parent / "points-service"), "serve"], env=environment, stdout=log, stderr=log
        )
        try:
            assert wait_until(lambda: answers(f"http://127.0.0.1:{port}/health/ready"), 120), (
                tmp_path / "serve.log"
            ).read_text()
            postgres = working_in(data_dir)
            valkey = valkeys_in(data_dir)
            assert postgres, "no embedded PostgreSQL found"
            assert valkey, "no embedded Valkey found"

            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)

            assert wait_until(lambda: not any(alive(p) for p in [*postgres, *valkey]), 30), [*postgres, *valkey]
        finally:
            if service.poll() is None:
                service.kill()
            for leftover in working_in(data_dir):
                leftover.kill()
            for leftover in valkeys_in(data_dir):
                leftover.kill()
