"""Rankings at district scale: leaderboard reads per second over HTTP, one evaluation of every member of
the district with six metrics over twelve months, and a rebuild of every leaderboard from the ledger.

    .venv/bin/python bench/rankings.py --members 10000 --duration 15 --workers 2 --data-dir /tmp/rank10k
    .venv/bin/python bench/rankings.py --members 10000 --replicate 12 --data-dir /tmp/rank120k --skip-http

1. Starts the embedded PostgreSQL and Valkey in a fresh temporary folder (or `--data-dir`, reused when
   a district is already loaded there) and loads the district demo (`points_service.district_demo`,
   every point through the ledger service) with `--members` members. `--replicate N` then copies the
   district by SQL N times in all (synthetic: not through the ledger; see bench/README.md).
2. In this process: times `leaderboards.store.rebuild` (every board of the tenant, from the ledger's
   monthly earned totals) and `EvaluationService.run` of an evaluation of the whole district (target
   `all`, six metrics, 12 months), `--rebuilds` times each (the median is reported). Both are also
   extrapolated linearly to the issue's sizes (5 million ledger lines, 100,000 members) when the run
   is smaller, and printed as an extrapolation.
3. Serves the app (`points-service serve --workers N`) on the same data, waits until the board answers
   from Redis (the `X-Leaderboard-Source` header), and measures with `wrk` `GET /api/v1/leaderboards` of
   the district (month board, top 20) as the district admin, and, as the machine's ceiling for this app
   server, `GET /health/live` with the same wrk settings.
4. Prints the CPU cores each phase used by group, "other" being everything else on the machine, and
   with `--py-spy PATH` a profile of the app workers during the reads.

Prints figures and asserts nothing; targets (issue 5, 2 cores): leaderboard reads >= 3,000/s with
p99 <= 30 ms; evaluation of 10,000 members < 2 s, of 100,000 < 20 s; rebuild from 5 million lines < 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # profiling.py imports `common` as a top-level module

from common import CpuMeter, Service, log, print_cpu_phases  # noqa: E402
from profiling import PySpy, print_profiles  # noqa: E402

METRICS = [
    ("earned_points", 3),
    ("penalty_points", 1),
    ("activities_attended", 2),
    ("duty_hours", 1),
    ("micro_wishes_fulfilled", 1),
    ("feedback_score", 1),
]


def load_and_time(
    data_dir: Path, members: int, rebuilds: int, load_only: bool = False, replicate: int = 1
) -> dict[str, Any]:
    from points_service.database.migrate import upgrade
    from points_service.embedded import embedded_services

    with embedded_services(data_dir) as services:
        upgrade(services.database_url)
        if load_only:
            return asyncio.run(_load(services.database_url, members))
        postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])
        return asyncio.run(
            _load_and_time(services.database_url, services.redis_url, members, rebuilds, postmaster, replicate)
        )


async def _load(database_url: str, members: int) -> dict[str, Any]:
    import points_service.database.registry  # noqa: F401 (every table mapped)

    from points_service.database.session import create_engine, session_factory
    from points_service.district_demo import load_district

    engine = create_engine(database_url, pool_size=4)
    started = time.monotonic()
    summary = await load_district(session_factory(engine), members)
    await engine.dispose()
    log(f"{summary} ({time.monotonic() - started:.0f} s)")
    return {}


async def _load_and_time(
    database_url: str,
    redis_url: str,
    members: int,
    rebuilds: int,
    postmaster: int | None,
    replicate: int = 1,
) -> dict[str, Any]:
    evaluations_to_time = rebuilds
    import points_service.database.registry  # noqa: F401 (every table mapped)

    from admin.evaluations.controllers import DEFAULT_BANDS
    from admin.evaluations.service import EvaluationService
    from points_service.auth.principal import Principal
    from points_service.database.session import create_engine, session_factory
    from points_service.district_demo import DistrictSummary, load_district
    from points_service.leaderboards.store import rebuild
    from points_service.org.service import OrgService
    from points_service.redis_pool import create_redis

    results: dict[str, Any] = {}
    engine = create_engine(database_url, pool_size=4)
    sessions = session_factory(engine)
    started = time.monotonic()
    summary = await load_district(sessions, members)
    results["load_seconds"] = time.monotonic() - started
    if isinstance(summary, DistrictSummary):
        results["district"] = str(summary).splitlines()[0]
    else:
        # --data-dir of an earlier run: the district is there already, and `members` is what it holds.
        results["district"] = f"district demo reused from the data folder ({summary})"
    async with sessions() as session:
        row = (
            await session.execute(
                _sql(
                    "SELECT t.id, a.id FROM tenants t JOIN login_accounts a ON a.tenant_id = t.id "
                    "WHERE a.username = 'district-admin'"
                )
            )
        ).one()
        tenant_id, admin_id = row
        root = await session.scalar(
            _sql("SELECT id FROM org_units WHERE tenant_id = :t AND kind = 'district'"), {"t": tenant_id}
        )
        lines = await session.scalar(_sql("SELECT count(*) FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant_id})
        members = await session.scalar(_sql("SELECT count(*) FROM members WHERE tenant_id = :t"), {"t": tenant_id})
        monthly = await session.scalar(
            _sql("SELECT count(*) FROM member_earned_monthly WHERE tenant_id = :t AND earned <> 0"), {"t": tenant_id}
        )
        replicated = await session.scalar(
            _sql("SELECT EXISTS (SELECT FROM members WHERE tenant_id = :t AND phone LIKE '%-%')"), {"t": tenant_id}
        )
    # A data folder replicated by an earlier run is used as it is.
    if replicate > 1 and not replicated:
        log(f"replicating the district {replicate} times by SQL copy (synthetic; see --replicate)")
        started = time.monotonic()
        await _replicate(sessions, tenant_id, replicate)
        log(f"replicated in {time.monotonic() - started:.0f} s")
        await engine.dispose()
        return await _load_and_time(database_url, redis_url, members, rebuilds, postmaster)
    async with sessions() as session:
        transactions = await session.scalar(
            _sql("SELECT count(*) FROM ledger_transactions WHERE tenant_id = :t"), {"t": tenant_id}
        )
    if replicated:
        lines = 2 * transactions
    results.update(tenant_id=str(tenant_id), root_unit=str(root), ledger_lines=int(lines), members=int(members))
    results.update(member_months=int(monthly), transactions=int(transactions), replicated=bool(replicated))

    redis = create_redis(redis_url)
    timings = []
    with CpuMeter(None, postmaster) as meter:
        for _ in range(rebuilds):
            async with sessions() as session:
                started = time.monotonic()
                boards = await rebuild(session, redis, tenant_id)
                timings.append(time.monotonic() - started)
    results["cpu"] = {"rebuild": meter.cores}
    await redis.aclose()
    results["rebuild_seconds"] = statistics.median(timings)
    results["boards"] = boards
    log(f"rebuild of {boards} boards from {lines} ledger lines: {[round(t, 2) for t in timings]} s")

    principal = Principal(account_id=admin_id, tenant_id=tenant_id, role="admin")
    today = date.today()
    async with sessions() as session, session.begin():
        evaluations = EvaluationService(session, principal, OrgService(session, principal))
        evaluation = await evaluations.create(
            {
                "name": "年度考评 (bench)",
                "org_unit_id": root,
                "target": "all",
                "period_start": date(today.year - 1, today.month, 1),
                "period_end": today,
                "metrics": [{"metric": name, "weight": float(Decimal(weight))} for name, weight in METRICS],
                "top_n": 10,
                "cadre_position": None,
                "grade_bands": dict(DEFAULT_BANDS),
            }
        )
    timings = []
    with CpuMeter(None, postmaster) as meter:
        for _ in range(evaluations_to_time):
            async with sessions() as session, session.begin():
                evaluations = EvaluationService(session, principal, OrgService(session, principal))
                started = time.monotonic()
                _, count, _ = await evaluations.run(evaluation.id)
                timings.append(time.monotonic() - started)
    results["cpu"]["evaluation"] = meter.cores
    results["evaluation_seconds"] = statistics.median(timings)
    results["evaluated_members"] = count
    log(f"evaluation of {count} members: {[round(t, 2) for t in timings]} s")
    await engine.dispose()
    return results


REPLICATE_SQL = [
    # Bench only: triggers (the ledger's balance check, foreign keys) are off for this session, because
    # transactions are copied without their entries, which neither a rebuild nor an evaluation reads.
    "SET session_replication_role = replica",
    """CREATE TEMP TABLE member_copies AS
       SELECT m.id AS old_id, c.copy, gen_random_uuid() AS new_id
         FROM members m CROSS JOIN generate_series(1, :copies) AS c(copy) WHERE m.tenant_id = :t""",
    """INSERT INTO members (name, phone, org_unit_id, party_status, cadre_position, pinyin_initials, tenant_id, id,
                           created_at)
       SELECT m.name, m.phone || '-' || c.copy, m.org_unit_id, m.party_status, m.cadre_position, m.pinyin_initials,
              m.tenant_id, c.new_id, m.created_at
         FROM members m JOIN member_copies c ON c.old_id = m.id WHERE m.tenant_id = :t""",
    """CREATE TEMP TABLE transaction_copies AS
       SELECT t.id AS old_id, c.copy, c.new_id AS member_id, gen_random_uuid() AS new_id
         FROM ledger_transactions t JOIN member_copies c ON c.old_id = t.member_id WHERE t.tenant_id = :t""",
    "CREATE INDEX ON transaction_copies (old_id, copy)",
    "ANALYZE transaction_copies",
    """INSERT INTO ledger_transactions (kind, member_id, rule_id, rule_code, quantity, memo, actor_account_id,
                                       reverses_id, local_date, earned_delta, digest, tenant_id, id, created_at)
       SELECT t.kind, c.member_id, t.rule_id, t.rule_code, t.quantity, t.memo, t.actor_account_id, r.new_id,
              t.local_date, t.earned_delta, t.digest, t.tenant_id, c.new_id, t.created_at
         FROM ledger_transactions t JOIN transaction_copies c ON c.old_id = t.id
         LEFT JOIN transaction_copies r ON r.old_id = t.reverses_id AND r.copy = c.copy
        WHERE t.tenant_id = :t""",
    """INSERT INTO member_earned_monthly (tenant_id, member_id, month, earned)
       SELECT e.tenant_id, c.new_id, e.month, e.earned
         FROM member_earned_monthly e JOIN member_copies c ON c.old_id = e.member_id WHERE e.tenant_id = :t""",
]


async def _replicate(sessions: Any, tenant_id: Any, replicate: int) -> None:
    async with sessions() as session, session.begin():
        for statement in REPLICATE_SQL:
            await session.execute(_sql(statement), {"t": tenant_id, "copies": replicate - 1})
    async with sessions() as session:
        await session.execute(_sql("ANALYZE"))


def _sql(statement: str) -> Any:
    from sqlalchemy import text

    return text(statement)


def wrk(url: str, token: str | None, duration: int, connections: int, threads: int) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "per_second": rate,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def read_phase(data_dir: Path, loaded: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    service = Service(data_dir, args.workers, data_dir / "server.log")
    service.start()
    profiler = PySpy(args.py_spy, service, data_dir / "py-spy") if args.py_spy else None
    try:
        token = httpx.post(
            f"{service.base_url}/api/v1/auth/login",
            json={"username": "district-admin", "password": "demo-password"},
            timeout=30,
        ).json()["access_token"]
        board = f"{service.base_url}/api/v1/leaderboards?period=month&limit=20&org_unit_id={loaded['root_unit']}"
        # The restart of the embedded Valkey left the boards empty: the upkeep loop rebuilds them, and
        # until then the answer comes from PostgreSQL. Measure only once Redis answers.
        started = time.monotonic()
        while True:
            first = httpx.get(board, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            first.raise_for_status()
            source = first.headers.get("X-Leaderboard-Source", "unknown")
            if source != "database" or time.monotonic() - started > args.ready_timeout:
                break
            time.sleep(0.5)
        log(
            f"board answers with {len(first.json()['items'])} rows from {source} after "
            f"{time.monotonic() - started:.1f} s; warming up {args.warmup}s"
        )
        wrk(board, token, args.warmup, args.connections, args.threads)
        if profiler:
            profiler.start("reads", args.duration)
        with service.meter() as meter:
            reads = wrk(board, token, args.duration, args.connections, args.threads)
        if profiler:
            profiler.collect("reads")
        reads["cpu"] = meter.cores
        after = httpx.get(board, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        reads["source"] = {"before": source, "after": after.headers.get("X-Leaderboard-Source", "unknown")}
        with service.meter() as meter:
            ceiling = wrk(f"{service.base_url}/health/live", None, args.duration, args.connections, args.threads)
        ceiling["cpu"] = meter.cores
        return {"reads": reads, "ceiling": ceiling, "profile": profiler.summaries if profiler else None}
    finally:
        service.stop()


def report(loaded: dict[str, Any], served: dict[str, Any] | None) -> None:
    members, lines = loaded["members"], loaded["ledger_lines"]
    per_line = loaded["rebuild_seconds"] / max(lines, 1)
    per_member = loaded["evaluation_seconds"] / max(loaded["evaluated_members"], 1)
    print()
    print(loaded["district"])
    if loaded.get("replicated"):
        print(
            f"  SYNTHETIC: replicated by SQL copy to {members:,} members and {loaded['transactions']:,} ledger "
            "transactions (not posted through the ledger; entries not copied, so 'lines' below are 2 per "
            "transaction, as posting makes them)"
        )
    print(f"  loading took {loaded['load_seconds']:.0f} s")
    print(
        f"rebuild of every leaderboard ({loaded['boards']:,} boards): {loaded['rebuild_seconds']:.2f} s for "
        f"{lines:,} ledger lines ({loaded['member_months']:,} member-months with earned points)"
    )
    if lines < 5_000_000:
        print(f"  extrapolated (linear) to 5,000,000 lines: {per_line * 5_000_000:.0f} s  (target < 60 s)")
    target = "< 20 s for 100,000" if loaded["evaluated_members"] > 50_000 else "< 2 s for 10,000"
    print(
        f"evaluation, 6 metrics, 12 months: {loaded['evaluation_seconds']:.2f} s "
        f"for {loaded['evaluated_members']:,} members  (target {target})"
    )
    if members < 100_000:
        print(f"  extrapolated (linear) to 100,000 members: {per_member * 100_000:.1f} s  (target < 20 s)")
    if served:
        reads, ceiling = served["reads"], served["ceiling"]
        ratio = reads["per_second"] / ceiling["per_second"] if ceiling["per_second"] else 0
        print(
            f"leaderboard reads: {reads['per_second']:.0f}/s, p99 {reads['p99_ms']} ms, non-2xx {reads['non_2xx']} "
            f"(target >= 3,000/s, p99 <= 30 ms); answered from {reads['source']['before']} before the run and "
            f"{reads['source']['after']} after it"
        )
        print(
            f"  ceiling of this app server (GET /health/live): {ceiling['per_second']:.0f}/s, p99 {ceiling['p99_ms']} "
            f"ms; reads are {ratio:.2f} of it"
        )
    print_cpu_phases(
        [
            ("rebuild", loaded["cpu"]["rebuild"]),
            ("evaluation", loaded["cpu"]["evaluation"]),
            ("reads", (served or {}).get("reads", {}).get("cpu")),
            ("ceiling", (served or {}).get("ceiling", {}).get("cpu")),
        ]
    )
    print_profiles((served or {}).get("profile"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument(
        "--rebuilds", type=int, default=3, help="rebuilds and evaluation runs to time (the median is reported)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument(
        "--warmup",
        type=int,
        default=5,
        help="seconds of reads before measuring (after the board answers from Redis)",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--load-only", action="store_true", help="load the district into --data-dir and stop (time it later)"
    )
    parser.add_argument(
        "--ready-timeout", type=float, default=120, help="seconds to wait for the boards to answer from Redis"
    )
    parser.add_argument("--py-spy", type=Path, default=None, help="profile the app workers during reads (py-spy path)")
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        help="copy the loaded district's members, their ledger transactions and monthly totals this many times "
        "in all, by SQL (not through the ledger; entries are not copied): a synthetic district at the issue's "
        "sizes in minutes instead of hours; the report says so",
    )
    parser.add_argument("--skip-http", action="store_true", help="no wrk phase (wrk is not installed)")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="use (and keep) this folder; a district loaded there by an earlier run is reused, not loaded again",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix=f"rankings-bench-{uuid.uuid4().hex[:6]}-"))
    log(f"data in {data_dir}")
    if args.load_only:
        if not args.data_dir:
            print("bench: --load-only needs --data-dir", file=sys.stderr)
            return 2
        load_and_time(data_dir, args.members, args.rebuilds, load_only=True)
        return 0
    loaded = load_and_time(data_dir, args.members, args.rebuilds, replicate=args.replicate)
    served = None if args.skip_http else read_phase(data_dir, loaded, args)
    report(loaded, served)
    if not args.keep_data and not args.data_dir:
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
