"""Red Points benchmark: awards/s and balance reads/s over HTTP (wrk), bulk awards, and pgbench as the ceiling.

Run from the project root:

    .venv/bin/python bench/run.py [--members 10000] [--duration 20] [--workers 2] [--output results.json]

It starts `points-service serve` on the embedded default in a fresh temporary POINTS_DATA_DIR, loads a
community through the HTTP API, measures with wrk, runs pgbench against the same embedded PostgreSQL, prints a
results table and stops the service. Figures only: nothing here asserts, and targets are reported as met/missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # bench/ is not a package: run.py's folder is on sys.path
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    BENCH_DIR,
    MEMBER_PASSWORD,
    PgTools,
    PgWaitSampler,
    Service,
    StatementTrace,
    Table,
    admin_token,
    describe_waits,
    log,
    login,
    login_members,
    print_cpu_phases,
    print_server_errors,
    require_wrk,
    statement_kinds,
    write_json,
    write_lua_table,
    wrk_phase,
)
from profiling import PySpy, print_profiles

WRK_SCRIPT = BENCH_DIR / "wrk_bench.lua"
RULE_CODE = "bench_volunteer"

TARGETS = {
    "awards_per_s": 800.0,
    "awards_p99_ms": 100.0,
    "reads_per_s": 3000.0,
    "reads_p99_ms": 50.0,
    "bulk_1000_s": 1.0,
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国红梅玉兰志文斌辉鹏飞宇浩然欣怡晨阳思雨佳琪"


# --------------------------------------------------------------------------------------------------------------
# Loading the community through the API
# --------------------------------------------------------------------------------------------------------------


def member_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


@dataclass
class Community:
    admin_token: str
    member_ids: list[str]
    login_usernames: list[str]
    load_seconds: dict[str, float]


async def load_community(
    base_url: str, members: int, logins: int, sub_units: int, concurrency: int, seed: int
) -> Community:
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        admin_token = await login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        client.headers["Authorization"] = f"Bearer {admin_token}"

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = await client.post(path, json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text}")
            return answer.json()

        started = time.monotonic()
        root = await post("/api/v1/admin/org-units", {"name": "基准社区", "kind": "community", "parent_id": None})
        semaphore = asyncio.Semaphore(concurrency)

        async def limited(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with semaphore:
                return await post(path, body)

        units = await asyncio.gather(
            *(
                limited("/api/v1/admin/org-units", {"name": f"第{i + 1}网格", "kind": "grid", "parent_id": root["id"]})
                for i in range(sub_units)
            )
        )
        unit_ids = [unit["id"] for unit in units]
        await post(
            "/api/v1/admin/rules",
            {
                "code": RULE_CODE,
                "name": "志愿服务（基准）",
                "category": "volunteer",
                "points": 5,
                "unit": "each",
                "daily_cap": None,
                "monthly_cap": None,
                "requires_approval": False,
            },
        )
        timings["org_units_and_rule"] = time.monotonic() - started

        statuses = ["none", "none", "none", "in_service", "retired", "mobile"]
        bodies = []
        for i in range(members):
            body: dict[str, Any] = {
                "name": member_name(rng),
                "phone": f"139{i:08d}",
                "org_unit_id": unit_ids[i % len(unit_ids)],
                "party_status": rng.choice(statuses),
                "cadre_position": "网格员" if i % 97 == 0 else None,
                "username": None,
                "password": None,
            }
            if i < logins:
                body["username"] = f"bench-member-{i}"
                body["password"] = MEMBER_PASSWORD
            bodies.append(body)

        done = 0
        progress_started = time.monotonic()

        async def create(body: dict[str, Any]) -> str:
            nonlocal done
            member = await limited("/api/v1/admin/members", body)
            done += 1
            if done % 2000 == 0:
                elapsed = time.monotonic() - progress_started
                log(f"  {done}/{members} members ({done / elapsed:.0f}/s)")
            return member["id"]

        started = time.monotonic()
        with_login = await asyncio.gather(*(create(body) for body in bodies[:logins]))
        timings["members_with_login"] = time.monotonic() - started
        started = time.monotonic()
        without_login = await asyncio.gather(*(create(body) for body in bodies[logins:]))
        timings["members_without_login"] = time.monotonic() - started
        member_ids = list(with_login) + list(without_login)
    return Community(admin_token, member_ids, [body["username"] for body in bodies[:logins]], timings)


def run_phase(
    name: str,
    service: Service,
    mode: str,
    data_file: Path,
    extra: list[str],
    args: argparse.Namespace,
    profiler: PySpy | None = None,
) -> dict[str, Any]:
    waits = PgWaitSampler(service, "red_points") if args.diagnose else None
    masks = {extra[0]: "<admin token>"} if mode == "award" else {}
    try:
        return wrk_phase(
            name,
            service,
            WRK_SCRIPT,
            [mode, str(data_file), *extra],
            threads=args.threads,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            masks=masks,
            waits=waits,
            before_measure=(lambda: profiler.start(name, args.duration)) if profiler else None,
        )
    finally:
        if profiler:
            profiler.collect(name)


def trace_requests(service: Service, admin: str, member_id: str, member_token: str) -> dict[str, Any]:
    """The SQL of one award and one balance read, each request alone (log_statement)."""
    traced: dict[str, Any] = {}
    award = {"member_id": member_id, "rule_code": RULE_CODE, "quantity": 1}
    with httpx.Client(base_url=service.base_url, timeout=30) as client, StatementTrace(service) as trace:
        client.get("/health/live")
        requests = (
            ("award", lambda: client.post("/api/v1/admin/awards", json=award, headers=bearer(admin))),
            ("balance read", lambda: client.get("/api/v1/me/balance", headers=bearer(member_token))),
        )
        for label, action in requests:
            answer, statements, others = trace.run(action)
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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------------------------------------------
# Bulk awards
# --------------------------------------------------------------------------------------------------------------


def give_history(service: Service, member_ids: list[str], awards_each: int) -> float:
    """Every member's earlier points, in bulk awards of 1,000: a live community's ledger is not empty,
    and plans cached while it was (the ledger's triggers, its foreign-key checks) would read every
    entry on each award until autovacuum next analyzes the tables, which is not what a live service sees."""
    token = admin_token(service.base_url)
    started = time.monotonic()
    with httpx.Client(base_url=service.base_url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
        for round_ in range(awards_each):
            for start in range(0, len(member_ids), 1000):
                chunk = member_ids[start : start + 1000]
                body = {"rule_code": RULE_CODE, "member_ids": chunk, "note": f"history {round_}"}
                answer = client.post("/api/v1/admin/awards/bulk", json=body)
                if answer.status_code != 201:
                    raise RuntimeError(f"history bulk award answered {answer.status_code} {answer.text[:400]}")
    return time.monotonic() - started


def bulk_awards(service: Service, member_ids: list[str], runs: int, size: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed + 1)
    token = admin_token(service.base_url)
    seconds: list[float] = []
    failures: list[str] = []
    with (
        httpx.Client(base_url=service.base_url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client,
        service.meter() as meter,
    ):
        client.get("/health/ready")  # open the connection outside the timing
        for run in range(runs):
            chosen = rng.sample(member_ids, min(size, len(member_ids)))
            body = {"rule_code": RULE_CODE, "member_ids": chosen, "quantity": 1, "note": f"bench bulk {run}"}
            started = time.perf_counter()
            answer = client.post("/api/v1/admin/awards/bulk", json=body)
            elapsed = time.perf_counter() - started
            if answer.status_code != 201 or answer.json().get("count") != len(chosen):
                failures.append(f"run {run}: {answer.status_code} {answer.text[:400]}")
            else:
                seconds.append(elapsed)
            log(f"  bulk run {run + 1}/{runs}: {answer.status_code} in {elapsed:.3f}s")
    result: dict[str, Any] = {
        "runs": runs,
        "size": size,
        "seconds": [round(s, 4) for s in seconds],
        "failures": failures,
        "cpu_cores": meter.cores,
    }
    if seconds:
        result["min_s"] = min(seconds)
        result["median_s"] = statistics.median(seconds)
    return result


# --------------------------------------------------------------------------------------------------------------
# pgbench against the embedded PostgreSQL
# --------------------------------------------------------------------------------------------------------------


def run_pgbench(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    pg = PgTools(service)
    log(f"pgbench: PostgreSQL socket {pg.socket_dir} port {pg.port}")
    pg.ensure_database("pgbench")
    settings = pg.settings()
    version = pg.version()
    log(f"pgbench: {version}; server settings: {settings}")
    started = time.monotonic()
    log(f"pgbench: initialising scale {args.pgbench_scale}")
    pg.run(pg.pgbench_command("pgbench", ["-i", "-q", "-s", str(args.pgbench_scale)]), 900)
    init_seconds = time.monotonic() - started
    duration = args.pgbench_duration or args.duration
    base = ["-c", str(args.pgbench_clients), "-j", str(args.pgbench_jobs), "-T", str(duration), "-n"]
    results: dict[str, Any] = {
        "scale": args.pgbench_scale,
        "clients": args.pgbench_clients,
        "jobs": args.pgbench_jobs,
        "duration_s": duration,
        "init_s": round(init_seconds, 1),
        "version": version,
        "server_settings": settings,
    }
    for name, extra in (("tpcb", []), ("select_only", ["-S"])):
        results[name] = pg.run_pgbench(name, "pgbench", [*extra, *base], duration)
    return results


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> None:
    awards, reads = results.get("awards"), results.get("reads")
    bulk, pg = results.get("bulk"), results.get("pgbench")
    table = Table()
    row = table.row

    if awards:
        row("awards/s (2xx)", f"{awards['ok_rps']:.0f}", ">= 800", awards["ok_rps"] >= TARGETS["awards_per_s"])
        row("awards p50", f"{awards['p50_ms']:.1f} ms")
        row("awards p99", f"{awards['p99_ms']:.1f} ms", "<= 100 ms", awards["p99_ms"] <= TARGETS["awards_p99_ms"])
        if "awards_per_batch" in awards:
            row("awards per group-commit batch", f"{awards['awards_per_batch']:.1f}")
        row(
            "awards non-2xx / socket errors",
            f"{awards['non_2xx']} / {awards['socket_error_count']}",
            "0",
            awards["non_2xx"] == 0 and awards["socket_error_count"] == 0,
        )
    if reads:
        row("balance reads/s (2xx)", f"{reads['ok_rps']:.0f}", ">= 3000", reads["ok_rps"] >= TARGETS["reads_per_s"])
        row("balance reads p50", f"{reads['p50_ms']:.1f} ms")
        row("balance reads p99", f"{reads['p99_ms']:.1f} ms", "<= 50 ms", reads["p99_ms"] <= TARGETS["reads_p99_ms"])
        row(
            "reads non-2xx / socket errors",
            f"{reads['non_2xx']} / {reads['socket_error_count']}",
            "0",
            reads["non_2xx"] == 0 and reads["socket_error_count"] == 0,
        )
    if bulk:
        if "median_s" in bulk:
            row(f"bulk award of {bulk['size']}: min", f"{bulk['min_s']:.3f} s")
            row(
                f"bulk award of {bulk['size']}: median",
                f"{bulk['median_s']:.3f} s",
                "< 1 s",
                bulk["median_s"] < TARGETS["bulk_1000_s"] and not bulk["failures"],
            )
        else:
            row("bulk award", "all runs failed", "< 1 s", False)
    if pg:
        tpcb, select = pg["tpcb"]["tps"], pg["select_only"]["tps"]
        row(f"pgbench TPC-B-like (-c{pg['clients']})", f"{tpcb:.0f} tps")
        row(f"pgbench select-only (-S -c{pg['clients']})", f"{select:.0f} tps")
        if awards:
            row("ratio awards/s : TPC-B tps", f"{awards['ok_rps'] / tpcb:.2f}")
        if reads:
            row("ratio reads/s : select-only tps", f"{reads['ok_rps'] / select:.3f}")
    table.print("Red Points benchmark — " + results["setup"]["summary"])
    print_cpu_phases(
        (
            ("load", (results.get("load") or {}).get("cpu_cores")),
            ("awards", (awards or {}).get("cpu_cores")),
            ("reads", (reads or {}).get("cpu_cores")),
            ("bulk", (bulk or {}).get("cpu_cores")),
            ("pgbench TPC-B", ((pg or {}).get("tpcb") or {}).get("cpu_cores")),
            ("pgbench select-only", ((pg or {}).get("select_only") or {}).get("cpu_cores")),
        )
    )
    for phase, result in (("awards", awards), ("reads", reads)):
        if result and result.get("db_waits"):
            print(f"database during {phase}: {describe_waits(result['db_waits'])}")
    for label, traced in (results.get("statements") or {}).items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in traced["kinds"].items())
        print(f"statements of one request alone, {label}: {traced['count']} ({kinds})")
    print_profiles(results.get("profile"))
    load = results.get("load")
    if load:
        print(
            "load: "
            + ", ".join(f"{k} {v:.1f}s" for k, v in load["seconds"].items())
            + f"; member logins {load['member_logins_s']:.1f}s"
        )
    print()


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=10_000, help="members in the community (default 10000)")
    parser.add_argument("--logins", type=int, default=200, help="members given a login for balance reads")
    parser.add_argument("--sub-units", type=int, default=50, help="sub-units under the community org unit")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk measurement (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up before each measurement")
    parser.add_argument("--workers", type=int, default=2, help="service worker processes (default 2)")
    parser.add_argument(
        "--server", choices=("granian", "uvicorn"), default=None, help="`serve --server` (default: serve's own)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--load-concurrency", type=int, default=32, help="concurrent requests while loading")
    parser.add_argument(
        "--history", type=int, default=2, help="earlier awards per member, given in bulk before measuring (default 2)"
    )
    parser.add_argument("--bulk-runs", type=int, default=5)
    parser.add_argument("--bulk-size", type=int, default=1000)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench-clients", type=int, default=16)
    parser.add_argument("--pgbench-jobs", type=int, default=2)
    parser.add_argument(
        "--pgbench-duration", type=int, default=None, help="seconds per pgbench run (default: --duration)"
    )
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--output", type=Path, default=None, help="also write the results as JSON to this path")
    parser.add_argument("--keep-data", action="store_true", help="keep the temporary POINTS_DATA_DIR and log")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="profile the app workers with py-spy (on PATH or --py-spy-path) during the awards and reads",
    )
    parser.add_argument("--py-spy-path", type=Path, default=None, help="the py-spy binary (default: from PATH)")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="sample the database's waits (pg_stat_activity) during awards and reads, and log the SQL of one award "
        "and one balance read, each alone (log_statement = 'all' for a moment)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not require_wrk():
        return 2
    py_spy = (args.py_spy_path or shutil.which("py-spy")) if args.py_spy else None
    if args.py_spy and not py_spy:
        print("bench: --py-spy needs py-spy on PATH or --py-spy-path", file=sys.stderr)
        return 2
    if args.logins < 1 or args.logins > args.members:
        print("bench: --logins must be between 1 and --members", file=sys.stderr)
        return 2
    args.logins = min(args.logins, args.members)

    work_dir = Path(tempfile.mkdtemp(prefix="rp-bench-"))
    data_dir = work_dir / "data"
    service = Service(data_dir, args.workers, work_dir / "server.log", server=args.server)
    profiler = PySpy(Path(py_spy), service, work_dir / "py-spy") if py_spy else None
    results: dict[str, Any] = {
        "setup": {
            "members": args.members,
            "logins": args.logins,
            "sub_units": args.sub_units,
            "workers": args.workers,
            "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
            "cpus": os.cpu_count(),
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
    try:
        service.start()

        log(
            f"loading {args.members} members ({args.logins} with logins) under 1 community + {args.sub_units} "
            f"sub-units, {args.load_concurrency} concurrent requests"
        )
        started = time.monotonic()
        with service.meter() as meter:
            community = asyncio.run(
                load_community(
                    service.base_url, args.members, args.logins, args.sub_units, args.load_concurrency, args.seed
                )
            )
        total = time.monotonic() - started
        log(f"loaded in {total:.1f}s ({community.load_seconds}); CPU cores used: {meter.describe()}")
        if args.history:
            seconds = give_history(service, community.member_ids, args.history)
            log(f"history: {args.history} earlier award(s) per member in {seconds:.1f}s")
        PgTools(service).analyze("red_points")
        log("VACUUM (ANALYZE) done (what autovacuum would have done by now on a live database)")
        results["load"] = {
            "seconds": {**{k: round(v, 2) for k, v in community.load_seconds.items()}, "total": round(total, 2)},
            "members_per_s_without_login": round(
                (args.members - args.logins) / max(community.load_seconds["members_without_login"], 1e-9), 1
            ),
            "cpu_cores": meter.cores,
        }

        ids_file = work_dir / "member_ids.lua"
        write_lua_table(ids_file, community.member_ids)
        token = admin_token(service.base_url)
        items_before, batches_before = service.batch_totals("awards")
        results["awards"] = run_phase("awards", service, "award", ids_file, [token, RULE_CODE], args, profiler)
        items_after, batches_after = service.batch_totals("awards")
        per_batch = (items_after - items_before) / max(batches_after - batches_before, 1)
        results["awards"]["awards_per_batch"] = round(per_batch, 1)
        log(f"awards: {per_batch:.1f} per group-commit batch (warm-up included)")

        log(f"logging in {len(community.login_usernames)} members")
        started = time.monotonic()
        member_tokens = asyncio.run(login_members(service.base_url, community.login_usernames, 16))
        results["load"]["member_logins_s"] = round(time.monotonic() - started, 2)
        log(f"member logins took {results['load']['member_logins_s']:.1f}s")
        tokens_file = work_dir / "member_tokens.lua"
        write_lua_table(tokens_file, member_tokens)
        results["reads"] = run_phase("balance reads", service, "balance", tokens_file, [], args, profiler)

        if args.diagnose:
            results["statements"] = trace_requests(
                service, admin_token(service.base_url), community.member_ids[-1], member_tokens[0]
            )

        log(f"bulk awards: {args.bulk_runs} runs of {args.bulk_size} members")
        results["bulk"] = bulk_awards(service, community.member_ids, args.bulk_runs, args.bulk_size, args.seed)

        if not args.skip_pgbench:
            results["pgbench"] = run_pgbench(service, args)

        for phase in ("awards", "reads"):
            if results[phase]["non_2xx"] or results[phase]["socket_error_count"]:
                exit_code = 1
        if results["bulk"]["failures"]:
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

    if any(key in results for key in ("awards", "reads", "bulk", "pgbench")):
        report(results)
    if args.output:
        write_json(args.output, results)
    if args.keep_data:
        log(f"kept {work_dir} (data, server.log, Lua data files)")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
