"""Red Points redemption benchmark: redemptions/s with distinct members, redemptions/s of one popular reward (one
hot stock row) against the database's own ceiling for that pattern (pgbench), and fulfilments/s, each with p99.

Run from the project root:

    .venv/bin/python bench/redemptions.py [--members 400] [--duration 20] [--workers 2] [--output results.json]

It starts `points-service serve` on the embedded default in a fresh temporary POINTS_DATA_DIR, sets a merchant,
its rewards and members with logins and points up through the HTTP API, measures with wrk
(bench/wrk_redemptions.lua), runs pgbench against the same embedded PostgreSQL (TPC-B-like, and a script that
mimics a redemption's hot part), prints a results table and stops the service. Figures only: nothing here
asserts, and targets are reported as met/missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # bench/ is not a package: this script's folder is on sys.path
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    BENCH_DIR,
    MEMBER_PASSWORD,
    ROOT,
    PgTools,
    PgWaitSampler,
    Service,
    StatementTrace,
    Table,
    describe_waits,
    log,
    login,
    login_members,
    print_cpu_phases,
    print_server_errors,
    require_wrk,
    run_wrk,
    statement_kinds,
    write_json,
    write_lua_table,
    wrk_phase,
)
from profiling import PySpy, print_profiles

WRK_SCRIPT = BENCH_DIR / "wrk_redemptions.lua"
APP_DATABASE = "red_points"
CLERK_USERNAME = "bench-clerk"
CLERK_PASSWORD = "bench-clerk-password"  # noqa: S105 - a throwaway benchmark tenant
GRANT_RULE = "bench_grant"
GRANT_POINTS = 1_000_000  # per member: enough for every redemption of the run at 1 point each
POPULAR_STOCK = 10_000_000

TARGETS = {
    "distinct_per_s": 500.0,
    "hot_vs_ceiling": 0.60,
    # Issue 19: fulfilments at one merchant, every one crediting the merchant's one ledger account.
    "fulfil_per_s": 1000.0,
    "fulfil_p99_ms": 50.0,
}

# The hot part of a redemption of a reward with stock, as the database sees it: take one off the one stock row
# (the row lock is held to the commit) and write the redemption, in one transaction.
HOT_ROW_SETUP = """
DROP TABLE IF EXISTS bench_hot_log;
DROP TABLE IF EXISTS bench_hot;
CREATE TABLE bench_hot (id int PRIMARY KEY, stock bigint NOT NULL);
INSERT INTO bench_hot VALUES (1, 1000000000);
CREATE TABLE bench_hot_log (
    id bigserial PRIMARY KEY,
    item int NOT NULL,
    member int NOT NULL,
    code text NOT NULL UNIQUE,
    at timestamptz NOT NULL DEFAULT now()
);
"""
HOT_ROW_SCRIPT = """\\set member random(1, 400)
BEGIN;
UPDATE bench_hot SET stock = stock - 1 WHERE id = 1 AND stock >= 1;
INSERT INTO bench_hot_log (item, member, code) VALUES (1, :member, md5(random()::text || clock_timestamp()::text));
COMMIT;
"""


# --------------------------------------------------------------------------------------------------------------
# Setting up through the API
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Marketplace:
    merchant_id: str
    distinct_reward_id: str
    popular_reward_id: str
    member_ids: list[str]
    member_usernames: list[str]
    seconds: dict[str, float]


async def set_up(base_url: str, members: int, sub_units: int, concurrency: int) -> Marketplace:
    timings: dict[str, float] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        admin = await login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        admin_headers = {"Authorization": f"Bearer {admin}"}

        async def post(path: str, body: dict[str, Any], headers: dict[str, str], expect: int = 201) -> Any:
            answer = await client.post(path, json=body, headers=headers)
            if answer.status_code != expect:
                raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text[:400]}")
            return answer.json()

        started = time.monotonic()
        root = await post(
            "/api/v1/admin/org-units", {"name": "兑换基准社区", "kind": "community", "parent_id": None}, admin_headers
        )
        units = [
            await post(
                "/api/v1/admin/org-units",
                {"name": f"第{i + 1}网格", "kind": "grid", "parent_id": root["id"]},
                admin_headers,
            )
            for i in range(sub_units)
        ]
        await post(
            "/api/v1/admin/rules",
            {
                "code": GRANT_RULE,
                "name": "兑换基准积分",
                "category": "other",
                "points": GRANT_POINTS,
                "unit": "each",
                "daily_cap": None,
                "monthly_cap": None,
                "requires_approval": False,
            },
            admin_headers,
        )
        # The merchant sits at the community: it serves every member below.
        merchant = await post(
            "/api/v1/admin/merchants",
            {
                "name": "基准便民超市",
                "address": "基准路 1 号",
                "org_unit_id": root["id"],
                "username": CLERK_USERNAME,
                "password": CLERK_PASSWORD,
            },
            admin_headers,
        )
        clerk_headers = {"Authorization": f"Bearer {await login(client, CLERK_USERNAME, CLERK_PASSWORD)}"}
        distinct = await post(
            "/api/v1/merchant/rewards",
            {"title": "基准兑换（不限量）", "points_price": 1, "stock": None},
            clerk_headers,
        )
        popular = await post(
            "/api/v1/merchant/rewards",
            {"title": "热门兑换（大库存）", "points_price": 1, "stock": POPULAR_STOCK},
            clerk_headers,
        )
        timings["org_rule_merchant_rewards"] = time.monotonic() - started

        semaphore = asyncio.Semaphore(concurrency)
        done = 0
        started = time.monotonic()

        async def create(i: int) -> tuple[str, str]:
            nonlocal done
            username = f"bench-redeemer-{i}"
            body = {
                "name": f"兑换会员{i}",
                "phone": f"137{i:08d}",
                "org_unit_id": units[i % len(units)]["id"],
                "party_status": "none",
                "cadre_position": None,
                "username": username,
                "password": MEMBER_PASSWORD,
            }
            async with semaphore:
                member = await post("/api/v1/admin/members", body, admin_headers)
            done += 1
            if done % 100 == 0:
                log(f"  {done}/{members} members ({done / (time.monotonic() - started):.1f}/s)")
            return member["id"], username

        created = await asyncio.gather(*(create(i) for i in range(members)))
        timings["members_with_login"] = time.monotonic() - started
        member_ids = [member_id for member_id, _ in created]

        started = time.monotonic()
        for chunk in range(0, len(member_ids), 1000):
            ids = member_ids[chunk : chunk + 1000]
            answer = await post(
                "/api/v1/admin/awards/bulk",
                {"rule_code": GRANT_RULE, "member_ids": ids, "quantity": 1, "note": "兑换基准"},
                admin_headers,
            )
            if answer.get("count") != len(ids):
                raise RuntimeError(f"bulk award answered {answer}")
        timings["points_bulk"] = time.monotonic() - started
    return Marketplace(merchant["id"], distinct["id"], popular["id"], member_ids, [u for _, u in created], timings)


def clerk_token(base_url: str) -> str:
    answer = httpx.post(
        f"{base_url}/api/v1/auth/login", json={"username": CLERK_USERNAME, "password": CLERK_PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def reward_stock(base_url: str, token: str, reward_id: str) -> int | None:
    answer = httpx.get(f"{base_url}/api/v1/merchant/rewards", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    answer.raise_for_status()
    for item in answer.json()["items"]:
        if item["id"] == reward_id:
            return item["stock"]
    return None


# --------------------------------------------------------------------------------------------------------------
# Codes written by the redeem runs
# --------------------------------------------------------------------------------------------------------------


def read_codes(codes_dir: Path) -> list[str]:
    codes: list[str] = []
    for path in sorted(codes_dir.glob("*.txt")):
        codes.extend(line.strip() for line in path.read_text().splitlines() if line.strip())
    return codes


# --------------------------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------------------------


def redeem_phase(
    name: str,
    service: Service,
    tokens_file: Path,
    reward_id: str,
    codes_prefix: Path,
    args: argparse.Namespace,
    waits: PgWaitSampler,
    profiler: PySpy | None,
) -> dict[str, Any]:
    script_args = ["redeem", str(tokens_file), str(args.threads), reward_id, str(codes_prefix)]
    warmup_args = [*script_args[:-1], f"{codes_prefix}-warmup"]
    try:
        result = wrk_phase(
            name,
            service,
            WRK_SCRIPT,
            script_args,
            threads=args.threads,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            warmup_args=warmup_args,
            waits=waits,
            keep_warmup=True,
            before_measure=(lambda: profiler.start(name, args.duration)) if profiler else None,
        )
    finally:
        if profiler:
            profiler.collect(name)
    return result


def top_up_codes(
    service: Service,
    tokens_file: Path,
    reward_id: str,
    codes_dir: Path,
    wanted: int,
    rate: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """More pending codes for the fulfilment pool: redeem runs (not measured) until `wanted` codes exist."""
    rounds = []
    for attempt in range(4):
        have = len(read_codes(codes_dir))
        if have >= wanted:
            break
        seconds = max(2, min(120, int((wanted - have) / max(rate, 20.0) * 1.15) + 1))
        log(f"code pool: {have} codes, want {wanted}: redeeming for {seconds}s more (round {attempt + 1})")
        started = time.monotonic()
        result = run_wrk(
            service.base_url,
            WRK_SCRIPT,
            ["redeem", str(tokens_file), str(args.threads), reward_id, str(codes_dir / f"topup{attempt}")],
            args.threads,
            args.connections,
            seconds,
        )
        rounds.append({"seconds": seconds, "codes_written": result["codes_written"], "statuses": result["statuses"]})
        rate = result["codes_written"] / max(time.monotonic() - started, 1e-9)
        if result["non_2xx"]:
            log(f"code pool: {result['non_2xx']} non-2xx answers; first: {result['first_error']}")
    return {"rounds": rounds, "codes": len(read_codes(codes_dir))}


STATEMENT_STATS = """
SELECT s.calls, round(s.total_exec_time::numeric, 1), round(s.mean_exec_time::numeric, 3), s.rows,
       s.shared_blks_hit + s.shared_blks_read, s.toplevel, regexp_replace(left(s.query, 160), '\\s+', ' ', 'g')
  FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
 WHERE d.datname = current_database() AND s.calls > 0
 ORDER BY s.total_exec_time DESC
 LIMIT 25
"""


def enable_statement_stats(service: Service) -> None:
    """pg_stat_statements on the embedded server (`--pg-stats`): a shared library, so the service is restarted
    once on its fresh data folder, before anything is set up; statements run inside functions and triggers are
    tracked too (`track = all`)."""
    pg = PgTools(service)
    pg.psql("postgres", "ALTER SYSTEM SET shared_preload_libraries = pg_stat_statements, auto_explain")
    pg.psql("postgres", "ALTER SYSTEM SET pg_stat_statements.track = 'all'")
    service.stop()
    service.start()
    PgTools(service).psql(APP_DATABASE, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def explain_slow_statements(service: Service, min_ms: float | None) -> None:
    """auto_explain (`--explain-ms`, loaded by `--pg-stats`): the plan, with actual times and buffers, of every
    statement of the app's slower than `min_ms`, nested ones (triggers, foreign-key checks) too, into the server's
    log; None switches it off again."""
    pg = PgTools(service)
    if min_ms is None:
        for name in ("log_min_duration", "log_analyze", "log_buffers", "log_nested_statements"):
            pg.psql("postgres", f"ALTER SYSTEM RESET auto_explain.{name}")
    else:
        pg.psql("postgres", f"ALTER SYSTEM SET auto_explain.log_min_duration = '{min_ms}ms'")
        for name in ("log_analyze", "log_buffers", "log_nested_statements"):
            pg.psql("postgres", f"ALTER SYSTEM SET auto_explain.{name} = on")
    pg.psql("postgres", "SELECT pg_reload_conf()")


def statement_stats(service: Service, fulfilments: int) -> list[dict[str, Any]]:
    """The app database's statements by total execution time since the last reset, per fulfilment too."""
    rows = []
    for line in PgTools(service).psql(APP_DATABASE, STATEMENT_STATS).splitlines():
        calls, total_ms, mean_ms, rows_out, blocks, toplevel, query = line.split("|", 6)
        rows.append(
            {
                "calls": int(calls),
                "total_ms": float(total_ms),
                "mean_ms": float(mean_ms),
                "rows": int(rows_out),
                "blocks": int(blocks),
                "toplevel": toplevel == "t",
                "us_per_fulfilment": round(1000 * float(total_ms) / max(fulfilments, 1), 1),
                "calls_per_fulfilment": round(int(calls) / max(fulfilments, 1), 3),
                "query": query,
            }
        )
    return rows


def print_statement_stats(rows: list[dict[str, Any]], fulfilments: int) -> None:
    total = sum(row["us_per_fulfilment"] for row in rows if row["toplevel"])
    print(f"\npg_stat_statements, fulfilment phase ({fulfilments} fulfilled; top level {total:.0f} us per fulfilment)")
    print(f"{'calls':>8} {'calls/f':>8} {'mean ms':>8} {'us/f':>7} {'rows':>8} {'blocks':>9} top query")
    for row in rows:
        print(
            f"{row['calls']:>8} {row['calls_per_fulfilment']:>8} {row['mean_ms']:>8.3f} {row['us_per_fulfilment']:>7}"
            f" {row['rows']:>8} {row['blocks']:>9} {'t' if row['toplevel'] else 'n':>3} {row['query'][:110]}"
        )


def fulfil_phase(
    service: Service,
    codes: list[str],
    work_dir: Path,
    args: argparse.Namespace,
    waits: PgWaitSampler,
    profiler: PySpy | None,
) -> dict[str, Any]:
    """Each code once: the warm-up takes codes[1..K], the measurement codes[K+1..], each wrk thread its own slice,
    and a thread stops before its slice runs dry. The measured duration is shortened if the warm-up's rate says
    the pool would not last."""
    codes_file = work_dir / "codes.lua"
    write_lua_table(codes_file, codes)
    token = clerk_token(service.base_url)
    masks = {token: "<clerk token>"}
    per_thread_connections = max(1, args.connections // args.threads)
    reserve = str(per_thread_connections + 2)
    warm_codes = min(len(codes) // 5, max(1000, args.warmup * 1000))
    warm: dict[str, Any] | None = None
    rate = None
    if args.warmup > 0:
        log(f"fulfilments: warm-up {args.warmup}s on codes 1..{warm_codes}")
        warm = run_wrk(
            service.base_url,
            WRK_SCRIPT,
            ["fulfil", str(codes_file), str(args.threads), token, "1", str(warm_codes), reserve],
            args.threads,
            args.connections,
            args.warmup,
            masks=masks,
        )
        warm.pop("wrk_stdout", None)
        rate = warm["codes_used"] / max(warm["duration_us"] / 1e6, 1e-9)
        log(
            f"fulfilments: warm-up used {warm['codes_used']} codes ({rate:.0f}/s), statuses {warm['statuses']}"
            + (", a thread ran out of codes" if warm["threads_exhausted"] else "")
        )
    first = warm_codes + 1 if warm else 1
    available = len(codes) - first + 1 - args.threads * int(reserve)
    duration = args.duration
    if rate and rate * duration > 0.85 * available:
        duration = max(3, int(0.85 * available / rate))
        log(f"fulfilments: {available} codes last about {available / rate:.0f}s at {rate:.0f}/s: measuring {duration}s")
    log(f"fulfilments: measuring {duration}s on codes {first}..{len(codes)}")
    if profiler:
        profiler.start("fulfilments", duration)
    if args.pg_stats:
        PgTools(service).psql(APP_DATABASE, "SELECT pg_stat_statements_reset()")
    if args.explain_ms is not None:
        explain_slow_statements(service, args.explain_ms)
    try:
        with service.meter() as meter:
            waits.start()
            try:
                result = run_wrk(
                    service.base_url,
                    WRK_SCRIPT,
                    ["fulfil", str(codes_file), str(args.threads), token, str(first), str(len(codes)), reserve],
                    args.threads,
                    args.connections,
                    duration,
                    masks=masks,
                )
            finally:
                result_waits = waits.stop()
    finally:
        if profiler:
            profiler.collect("fulfilments")
    seconds = result["duration_us"] / 1e6
    # The padding probes (only when a slice ran dry) answered 200 but fulfilled nothing.
    result["ok"] -= result["padded"]
    result["ok_rps"] = result["ok"] / seconds
    result["cpu_cores"] = meter.cores
    result["db_waits"] = result_waits
    result["pool"] = len(codes)
    if args.explain_ms is not None:
        explain_slow_statements(service, None)
    if args.pg_stats:
        # Read after wrk stopped: the requests still in flight then are counted in neither.
        result["statements"] = statement_stats(service, result["ok"])
    result["codes_range"] = [first, len(codes)]
    if warm:
        result["warmup"] = warm
    log(
        f"fulfilments: {result['ok_rps']:.0f} ok/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"non-2xx {result['non_2xx']} (409 = a code reused), socket errors {result['socket_errors']}; "
        f"statuses {result['statuses']}; codes used {result['codes_used']}"
    )
    if result["threads_exhausted"]:
        log("fulfilments: a thread ran out of codes before the end: the rate is a lower bound")
    log(f"fulfilments: CPU cores used: {meter.describe()}")
    log(f"fulfilments: database: {describe_waits(result_waits)}")
    if result["non_2xx"]:
        log(f"fulfilments: first non-2xx answer: {result['first_error']}")
    return result


def trace_requests(service: Service, member_token: str, market: Marketplace, code: str) -> dict[str, Any]:
    """The SQL of one redemption of each reward and of one fulfilment, each request alone (log_statement)."""
    clerk = clerk_token(service.base_url)
    traced: dict[str, Any] = {}
    with httpx.Client(base_url=service.base_url, timeout=30) as client, StatementTrace(service) as trace:
        client.get("/health/live")
        requests = (
            (
                "redeem, unlimited stock",
                member_token,
                "/api/v1/me/redemptions",
                {"reward_id": market.distinct_reward_id},
            ),
            ("redeem, popular reward", member_token, "/api/v1/me/redemptions", {"reward_id": market.popular_reward_id}),
            ("fulfil", clerk, "/api/v1/merchant/redemptions/fulfil", {"code": code}),
        )
        for label, token, path, body in requests:
            answer, statements, others = trace.run(
                lambda path=path, body=body, token=token: client.post(
                    path, json=body, headers={"Authorization": f"Bearer {token}"}
                )
            )
            traced[label] = {
                "status": answer.status_code,
                "count": len(statements),
                "kinds": statement_kinds(statements),
                "statements": [sql[:200] for sql in statements],
                "other_backends_meanwhile": [sql[:200] for sql in others],
            }
            log(
                f"statements of one request, {label} ({answer.status_code}): {len(statements)} {traced[label]['kinds']}"
            )
    return traced


def run_pgbench(service: Service, args: argparse.Namespace, work_dir: Path) -> dict[str, Any]:
    pg = PgTools(service)
    log(f"pgbench: PostgreSQL socket {pg.socket_dir} port {pg.port}")
    pg.ensure_database("pgbench")
    settings = pg.settings()
    version = pg.version()
    log(f"pgbench: {version}; server settings: {settings}")
    duration = args.pgbench_duration
    clients = ["-c", str(args.pgbench_clients), "-j", str(args.pgbench_jobs), "-T", str(duration), "-n"]
    results: dict[str, Any] = {
        "clients": args.pgbench_clients,
        "jobs": args.pgbench_jobs,
        "duration_s": duration,
        "version": version,
        "server_settings": settings,
    }
    pg.psql("pgbench", HOT_ROW_SETUP)
    script = work_dir / "hot_row.sql"
    script.write_text(HOT_ROW_SCRIPT)
    results["hot_row_script"] = HOT_ROW_SCRIPT
    results["hot_row"] = pg.run_pgbench("hot row", "pgbench", ["-M", "prepared", "-f", str(script), *clients], duration)
    taken = pg.psql("pgbench", "SELECT 1000000000 - stock FROM bench_hot WHERE id = 1").strip()
    results["hot_row"]["stock_taken"] = int(taken)
    if not args.skip_tpcb:
        started = time.monotonic()
        log(f"pgbench: initialising scale {args.pgbench_scale}")
        pg.run(pg.pgbench_command("pgbench", ["-i", "-q", "-s", str(args.pgbench_scale)]), 900)
        results["scale"] = args.pgbench_scale
        results["init_s"] = round(time.monotonic() - started, 1)
        results["tpcb"] = pg.run_pgbench("tpcb", "pgbench", clients, duration)
    return results


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def errors_cell(result: dict[str, Any]) -> str:
    return f"{result['non_2xx']} / {result['socket_error_count']}"


def no_errors(result: dict[str, Any]) -> bool:
    return result["non_2xx"] == 0 and result["socket_error_count"] == 0


def report(results: dict[str, Any]) -> None:
    distinct, hot = results.get("distinct"), results.get("hot")
    fulfil, pg = results.get("fulfil"), results.get("pgbench")
    ceiling = ((pg or {}).get("hot_row") or {}).get("tps")
    table = Table()
    row = table.row
    if distinct:
        row(
            "redemptions/s, distinct members (2xx)",
            f"{distinct['ok_rps']:.0f}",
            ">= 500",
            distinct["ok_rps"] >= TARGETS["distinct_per_s"],
        )
        row("  p50 / p99", f"{distinct['p50_ms']:.1f} / {distinct['p99_ms']:.1f} ms")
        row("  non-2xx / socket errors", errors_cell(distinct), "0", no_errors(distinct))
    if hot:
        row("redemptions/s, one popular reward (2xx)", f"{hot['ok_rps']:.0f}")
        row("  p50 / p99", f"{hot['p50_ms']:.1f} / {hot['p99_ms']:.1f} ms")
        row("  non-2xx / socket errors", errors_cell(hot), "0", no_errors(hot))
        check = hot.get("stock_check")
        if check:
            row(
                "  stock taken : 201s counted by wrk",
                f"{check['taken']} : {check['counted']}",
                f"diff 0..{check['tolerance']}",
                0 <= check["taken"] - check["counted"] <= check["tolerance"],
            )
    if ceiling:
        row(f"pgbench hot-row script (-c{pg['clients']} -j{pg['jobs']})", f"{ceiling:.0f} tps")
        if hot:
            ratio = hot["ok_rps"] / ceiling
            row(
                "  ratio popular redemptions/s : hot-row tps",
                f"{ratio:.2f}",
                ">= 0.60",
                ratio >= TARGETS["hot_vs_ceiling"],
            )
    if fulfil:
        row(
            "fulfilments/s at one merchant (2xx)",
            f"{fulfil['ok_rps']:.0f}" + (" (lower bound: codes ran out)" if fulfil["threads_exhausted"] else ""),
            ">= 1000",
            fulfil["ok_rps"] >= TARGETS["fulfil_per_s"],
        )
        row(
            "  p50 / p99",
            f"{fulfil['p50_ms']:.1f} / {fulfil['p99_ms']:.1f} ms",
            "p99 <= 50 ms",
            fulfil["p99_ms"] <= TARGETS["fulfil_p99_ms"],
        )
        row(
            "  non-2xx (409 = code reused) / socket errors",
            errors_cell(fulfil),
            "0",
            no_errors(fulfil),
        )
        row("  codes in the pool / used while measuring", f"{fulfil['pool']} / {fulfil['codes_used']}")
        if ceiling:
            # Every fulfilment at one merchant credits its one account row: the hot-row script's pattern,
            # one row lock per commit, is the ceiling one lock per fulfilment would meet.
            row("  ratio fulfilments/s : hot-row tps", f"{fulfil['ok_rps'] / ceiling:.2f}")
    if pg and "tpcb" in pg:
        tpcb = pg["tpcb"]["tps"]
        row(f"pgbench TPC-B-like (-s{pg['scale']} -c{pg['clients']})", f"{tpcb:.0f} tps")
        if distinct:
            row("  ratio distinct redemptions/s : TPC-B tps", f"{distinct['ok_rps'] / tpcb:.2f}")
        if fulfil:
            row("  ratio fulfilments/s : TPC-B tps", f"{fulfil['ok_rps'] / tpcb:.2f}")
    table.print("Red Points redemption benchmark — " + results["setup"]["summary"])
    print_cpu_phases(
        (
            ("setup", (results.get("load") or {}).get("cpu_cores")),
            ("distinct", (distinct or {}).get("cpu_cores")),
            ("popular", (hot or {}).get("cpu_cores")),
            ("fulfilments", (fulfil or {}).get("cpu_cores")),
            ("pgbench hot row", ((pg or {}).get("hot_row") or {}).get("cpu_cores")),
            ("pgbench TPC-B", ((pg or {}).get("tpcb") or {}).get("cpu_cores")),
        )
    )
    for phase, result in (("distinct", distinct), ("popular", hot), ("fulfilments", fulfil)):
        if result and result.get("db_waits"):
            print(f"database during {phase}: {describe_waits(result['db_waits'])}")
    for label, traced in (results.get("statements") or {}).items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in traced["kinds"].items())
        print(f"statements of one request alone, {label}: {traced['count']} ({kinds})")
    print_profiles(results.get("profile"))
    load = results.get("load")
    if load:
        print("setup: " + ", ".join(f"{k} {v:.1f}s" for k, v in load["seconds"].items()))
    print()


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=400, help="members with a login who redeem (default 400)")
    parser.add_argument("--sub-units", type=int, default=10, help="sub-units under the community org unit")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk measurement (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up before each measurement")
    parser.add_argument("--workers", type=int, default=2, help="service worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--setup-concurrency", type=int, default=16, help="concurrent requests while setting up")
    parser.add_argument(
        "--codes",
        type=int,
        default=20_000,
        help="at most this many pending codes in the fulfilment pool (default 20000; fewer when the service is "
        "slow: 2.5 x the redemption rate x (warm-up + duration), at least 2000; 0 skips fulfilments)",
    )
    parser.add_argument("--pgbench-scale", type=int, default=10, help="TPC-B scale (default 10)")
    parser.add_argument("--pgbench-clients", type=int, default=16)
    parser.add_argument("--pgbench-jobs", type=int, default=2)
    parser.add_argument("--pgbench-duration", type=int, default=20, help="seconds per pgbench run (default 20)")
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--skip-tpcb", action="store_true", help="run the hot-row pgbench script only")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="profile the app workers with py-spy (on PATH or --py-spy-path) during each measured phase",
    )
    parser.add_argument("--py-spy-path", type=Path, default=None, help="the py-spy binary (default: from PATH)")
    parser.add_argument(
        "--no-trace",
        dest="trace",
        action="store_false",
        help="skip the statement trace (log_statement = 'all' for one redemption of each reward and one fulfilment)",
    )
    parser.add_argument(
        "--pg-stats",
        action="store_true",
        help="pg_stat_statements on the embedded server (one restart before setup): the fulfilment phase's "
        "statements by total time, calls and time per fulfilment",
    )
    parser.add_argument(
        "--explain-ms",
        type=float,
        default=None,
        help="with --pg-stats: auto_explain (ANALYZE, BUFFERS) into the server log for statements slower than this "
        "during the fulfilment phase (keep the log with --keep-data)",
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--output", type=Path, default=None, help="also write the results as JSON to this path")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary POINTS_DATA_DIR and log")
    return parser.parse_args(argv)


def git_state() -> str:
    """The commit measured, and whether the work tree had uncommitted changes to tracked files."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        head = subprocess.run(  # noqa: S603 - fixed arguments
            [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603 - fixed arguments
            [git, "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" with uncommitted changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not require_wrk():
        return 2
    if args.members < args.connections:
        print("bench: --members must be at least --connections (distinct members in flight)", file=sys.stderr)
        return 2
    profiler = None
    if args.py_spy:
        binary = args.py_spy_path or shutil.which("py-spy")
        if not binary:
            print("bench: --py-spy needs py-spy on PATH or --py-spy-path", file=sys.stderr)
            return 2

    work_dir = Path(tempfile.mkdtemp(prefix="rp-bench-redeem-"))
    codes_dir = work_dir / "codes"
    codes_dir.mkdir()
    service = Service(work_dir / "data", args.workers, work_dir / "server.log")
    if args.py_spy:
        profiler = PySpy(Path(binary), service, work_dir / "py-spy")
    results: dict[str, Any] = {
        "setup": {
            "members": args.members,
            "workers": args.workers,
            "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
            "cpus": os.cpu_count(),
            "code": git_state(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
            "summary": (
                f"{args.members} members, {args.workers} workers, wrk -t{args.threads} "
                f"-c{args.connections} -d{args.duration}s, {os.cpu_count()} CPUs"
            ),
        }
    }
    exit_code = 0
    loadavg = float(results["setup"]["loadavg_at_start"][0])
    if loadavg > 0.5:
        log(f"note: load average is {loadavg:.2f} before the start; other work on this machine skews the figures")
    rng = random.Random(args.seed)
    try:
        service.start()
        if args.pg_stats:
            enable_statement_stats(service)
        waits = PgWaitSampler(service, APP_DATABASE)

        log(
            f"setting up: a merchant, 2 rewards, {args.members} members with logins and {GRANT_POINTS} points each, "
            f"{args.setup_concurrency} concurrent requests"
        )
        started = time.monotonic()
        with service.meter() as meter:
            market = asyncio.run(set_up(service.base_url, args.members, args.sub_units, args.setup_concurrency))
            log(f"logging in {args.members} members")
            logins_started = time.monotonic()
            tokens = asyncio.run(login_members(service.base_url, market.member_usernames, args.setup_concurrency))
            market.seconds["member_logins"] = time.monotonic() - logins_started
        market.seconds["total"] = time.monotonic() - started
        log(f"set up in {market.seconds['total']:.1f}s ({market.seconds}); CPU cores used: {meter.describe()}")
        results["load"] = {"seconds": {k: round(v, 2) for k, v in market.seconds.items()}, "cpu_cores": meter.cores}
        PgTools(service).analyze(APP_DATABASE)
        log("VACUUM (ANALYZE) done (what autovacuum would have done by now on a live database)")
        tokens_file = work_dir / "member_tokens.lua"
        write_lua_table(tokens_file, tokens)

        results["distinct"] = redeem_phase(
            "distinct", service, tokens_file, market.distinct_reward_id, codes_dir / "distinct", args, waits, profiler
        )
        results["hot"] = redeem_phase(
            "popular", service, tokens_file, market.popular_reward_id, codes_dir / "popular", args, waits, profiler
        )
        stock = reward_stock(service.base_url, clerk_token(service.base_url), market.popular_reward_id)
        counted = results["hot"]["statuses"].get(201, 0) + results["hot"]["warmup"]["statuses"].get(201, 0)
        taken = POPULAR_STOCK - (stock or 0)
        results["hot"]["stock_check"] = {
            "stock_left": stock,
            "taken": taken,
            "counted": counted,
            # wrk stops with requests in flight: their stock is taken, their 201 not counted (2 runs).
            "tolerance": 2 * args.connections,
        }
        log(f"popular reward: stock taken {taken}, 201s counted by wrk {counted}")

        if args.codes > 0:
            # Enough codes for the fulfilments' warm-up and measurement at 2.5 times the redemption rate (a
            # fulfilment does about as much work as a redemption), at most --codes: a slow service does not spend
            # minutes making codes it cannot use.
            rate = max(results["distinct"]["ok_rps"], results["hot"]["ok_rps"], 1.0)
            wanted = min(args.codes, max(2000, int(2.5 * rate * (args.warmup + args.duration))))
            results["code_pool"] = top_up_codes(
                service, tokens_file, market.distinct_reward_id, codes_dir, wanted, rate, args
            )
            results["code_pool"]["wanted"] = wanted
            codes = read_codes(codes_dir)
            if len(set(codes)) != len(codes):
                raise RuntimeError(f"the redeem runs answered {len(codes) - len(set(codes))} duplicate codes")
            rng.shuffle(codes)
            if args.trace:
                results["statements"] = trace_requests(service, tokens[0], market, codes.pop())
            log(f"code pool: {len(codes)} pending codes")
            # The redeem runs wrote tens of thousands of redemptions and ledger rows since the VACUUM (ANALYZE) after
            # setup: autovacuum's analyze of them would otherwise land in the middle of the fulfilments (plans
            # of the counter's statements and foreign-key checks changing mid-run; seen: 1.5 to 9.5 ms of database
            # time per fulfilment from one run to the next).
            PgTools(service).analyze(APP_DATABASE)
            results["fulfil"] = fulfil_phase(service, codes, work_dir, args, waits, profiler)

        if not args.skip_pgbench:
            results["pgbench"] = run_pgbench(service, args, work_dir)

        for phase in ("distinct", "hot", "fulfil"):
            if phase in results and (results[phase]["non_2xx"] or results[phase]["socket_error_count"]):
                exit_code = 1
    except KeyboardInterrupt:
        log("interrupted")
        exit_code = 130
    except Exception as error:
        log(f"benchmark failed: {type(error).__name__}: {error}")
        exit_code = 1
    finally:
        if profiler:
            results["profile"] = profiler.summaries
        try:
            service.stop()
        except Exception as error:
            log(f"stopping the service failed: {error}")

    print_server_errors(service, bool(exit_code and exit_code != 130))
    if any(key in results for key in ("distinct", "hot", "fulfil", "pgbench")):
        report(results)
    if "statements" in results.get("fulfil", {}):
        print_statement_stats(results["fulfil"]["statements"], results["fulfil"]["ok"])
    if args.output:
        write_json(args.output, results)
    if args.keep_data:
        log(f"kept {work_dir} (data, server.log, Lua data files, codes, py-spy profiles)")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
