"""Red Points read benchmark: a member's balance, a leaderboard's top 20 and the reward catalogue over HTTP
(wrk), each as a ratio to a Litestar no-op handler served by the same server with the same workers, measured
in the same run.

Run from the project root:

    .venv/bin/python bench/reads.py [--members 64] [--duration 10] [--workers 2] [--server uvicorn|granian]

It starts `points-service serve` on the embedded default in a fresh temporary POINTS_DATA_DIR, sets up through
the API one community, a rule, a merchant with rewards and `--members` members with logins (each awarded
once), measures each read with wrk, and the no-op app (`bench/noop_app.py`, running beside the idle service) the same
way before and after each read, and so is a bare Litestar + asyncpg read of the service's database
(`/bare-balance` in the same app: the balance statement, no auth, no middleware), the stack's own ceiling
for a database read. Figures only: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # bench/ is not a package: this folder is on sys.path
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    BENCH_DIR,
    MEMBER_PASSWORD,
    CpuMeter,
    Service,
    Table,
    free_port,
    log,
    login,
    login_members,
    postmaster_socket,
    print_cpu_phases,
    print_server_errors,
    require_wrk,
    write_json,
    write_lua_table,
    wrk_phase,
)
from profiling import PySpy, print_profiles

from points_service.embedded import DATABASE_NAME

WRK_SCRIPT = BENCH_DIR / "wrk_bench.lua"
RULE_CODE = "bench_reads"
CLERK_USERNAME = "bench-reads-clerk"
CLERK_PASSWORD = "bench-reads-clerk-password"  # noqa: S105 - a throwaway benchmark tenant
TARGET_RATIO = 0.5
TARGET_P99_MS = 15.0


async def set_up(base_url: str, members: int, rewards: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        admin = await login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        admin_headers = {"Authorization": f"Bearer {admin}"}

        async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            answer = await client.post(path, json=body, headers=headers)
            if answer.status_code != 201:
                raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text[:400]}")
            return answer.json()

        root = await post(
            "/api/v1/admin/org-units", {"name": "读基准社区", "kind": "community", "parent_id": None}, admin_headers
        )
        units = [
            await post(
                "/api/v1/admin/org-units",
                {"name": f"第{i + 1}网格", "kind": "grid", "parent_id": root["id"]},
                admin_headers,
            )
            for i in range(4)
        ]
        rule = {
            "code": RULE_CODE,
            "name": "读基准积分",
            "category": "volunteer",
            "points": 5,
            "unit": "each",
            "daily_cap": None,
            "monthly_cap": None,
            "requires_approval": False,
        }
        await post("/api/v1/admin/rules", rule, admin_headers)
        merchant = {
            "name": "读基准超市",
            "address": "基准路 2 号",
            "org_unit_id": root["id"],
            "username": CLERK_USERNAME,
            "password": CLERK_PASSWORD,
        }
        await post("/api/v1/admin/merchants", merchant, admin_headers)
        clerk = {"Authorization": f"Bearer {await login(client, CLERK_USERNAME, CLERK_PASSWORD)}"}
        for i in range(rewards):
            await post(
                "/api/v1/merchant/rewards", {"title": f"读基准奖品{i + 1}", "points_price": 10, "stock": None}, clerk
            )
        usernames = []
        for i in range(members):
            username = f"bench-reader-{i}"
            body = {
                "name": f"读者{i}",
                "phone": f"136{i:08d}",
                "org_unit_id": units[i % len(units)]["id"],
                "party_status": "none",
                "cadre_position": None,
                "username": username,
                "password": MEMBER_PASSWORD,
            }
            member = await post("/api/v1/admin/members", body, admin_headers)
            for _ in range(1 + i % 3):
                award = {"member_id": member["id"], "rule_code": RULE_CODE, "quantity": 1 + i % 7}
                await post("/api/v1/admin/awards", award, admin_headers)
            usernames.append(username)
    return {"admin": admin, "root_unit": root["id"], "usernames": usernames}


def wait_for_redis_board(base_url: str, token: str, path: str, timeout: float) -> str:
    """Each worker trusts the boards only after its own upkeep has checked them (every 30 s, see
    leaderboards/stamps.py) and reads PostgreSQL until then: measure once 20 reads in a row, each on a
    connection of its own (so spread over the workers), came from Redis."""
    started = time.monotonic()
    source, in_a_row = "unknown", 0
    while time.monotonic() - started < timeout and in_a_row < 20:
        answer = httpx.get(base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        answer.raise_for_status()
        source = answer.headers.get("X-Leaderboard-Source", "unknown")
        in_a_row = in_a_row + 1 if source == "redis" else 0
        if source != "redis":
            time.sleep(0.5)
    return source if in_a_row >= 20 else f"{source} (not 20 in a row from Redis within {timeout:.0f} s)"


class NoopServer:
    """bench/noop_app.py under the same server and workers as the service, for the ceiling."""

    def __init__(self, server: str, workers: int, log_path: Path, bare_read_dsn: str | None = None) -> None:
        self.server, self.workers, self.log_path = server, workers, log_path
        self.bare_read_dsn = bare_read_dsn
        self.postmaster_pid: int | None = None
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        if self.server == "granian":
            return [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--loop",
                "uvloop",
                "--working-dir",
                str(BENCH_DIR),
                "noop_app:app",
            ]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "noop_app:app",
            "--app-dir",
            str(BENCH_DIR),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def __enter__(self) -> NoopServer:
        self.log_file = open(self.log_path, "wb")
        env = dict(os.environ)
        env.pop("BENCH_BARE_READ_DSN", None)
        if self.bare_read_dsn:
            env["BENCH_BARE_READ_DSN"] = self.bare_read_dsn
        self.proc = subprocess.Popen(  # noqa: S603 - our own command line
            self.command(), stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                path = "/bare-balance" if self.bare_read_dsn else "/noop"
                if httpx.get(f"{self.base_url}{path}", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"the no-op app did not start: {self.log_path.read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log_file.close()

    def meter(self) -> CpuMeter:
        # The bare read's PostgreSQL is the service's: its backends count as "postgres", not "other".
        return CpuMeter(self.proc.pid if self.proc else None, self.postmaster_pid)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=64, help="members with logins, read in turn (default 64)")
    parser.add_argument("--rewards", type=int, default=12, help="rewards in the catalogue (default 12)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--server", choices=("granian", "uvicorn"), default="granian", help="`serve --server`, and the no-op's"
    )
    parser.add_argument(
        "--ceiling-only", action="store_true", help="measure only the no-op (to compare servers back to back)"
    )
    parser.add_argument(
        "--only", default="balance,board,board_admin,catalogue", help="comma-separated reads to measure"
    )
    parser.add_argument("--py-spy", type=Path, default=None, help="the py-spy binary: profile the workers per read")
    parser.add_argument("--ready-timeout", type=float, default=90.0)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--keep-data", action="store_true")
    return parser.parse_args(argv)


def ceiling_only(args: argparse.Namespace, work_dir: Path) -> int:
    noop_data = work_dir / "noop.lua"
    write_lua_table(noop_data, ["none"])
    with NoopServer(args.server, args.workers, work_dir / "noop.log") as noop:
        result = wrk_phase(
            f"litestar no-op ({args.server})",
            noop,
            WRK_SCRIPT,
            ["get", str(noop_data), "/noop"],
            threads=args.threads,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
        )
    print(
        f"no-op under {args.server}, {args.workers} workers: {result['ok_rps']:.0f}/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms; load average {Path('/proc/loadavg').read_text().split()[:3]}"
    )
    shutil.rmtree(work_dir, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not require_wrk():
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="rp-reads-"))
    if args.ceiling_only:
        return ceiling_only(args, work_dir)
    service = Service(work_dir / "data", args.workers, work_dir / "server.log", server=args.server)
    profiler = PySpy(args.py_spy, service, work_dir / "py-spy") if args.py_spy else None
    server = args.server
    results: dict[str, Any] = {
        "setup": {
            "members": args.members,
            "workers": args.workers,
            "server": server,
            "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "reads": {},
    }
    wanted = args.only.split(",")
    exit_code = 0

    def measure(name: str, base: Any, data_file: Path, path: str) -> dict[str, Any]:
        result = wrk_phase(
            name,
            base,
            WRK_SCRIPT,
            ["get", str(data_file), path],
            threads=args.threads,
            connections=args.connections,
            duration=args.duration,
            warmup=args.warmup,
            before_measure=(lambda: profiler.start(name, args.duration)) if profiler and base is service else None,
        )
        if profiler and base is service:
            profiler.collect(name)
        result.pop("wrk_stdout", None)
        return result

    noop_data = work_dir / "noop.lua"
    write_lua_table(noop_data, ["none"])
    noops: list[dict[str, Any]] = []
    bares: list[dict[str, Any]] = []
    try:
        service.start()
        log(f"setting up {args.members} members with logins, {args.rewards} rewards")
        started = time.monotonic()
        setup = asyncio.run(set_up(service.base_url, args.members, args.rewards))
        member_tokens = asyncio.run(login_members(service.base_url, setup["usernames"], 8))
        log(f"set up in {time.monotonic() - started:.1f}s")
        members_file = work_dir / "member_tokens.lua"
        write_lua_table(members_file, member_tokens)
        admin_file = work_dir / "admin_token.lua"
        write_lua_table(admin_file, [setup["admin"]])
        board = "/api/v1/leaderboards?period=month&limit=20"
        admin_board = f"{board}&org_unit_id={setup['root_unit']}"
        source = wait_for_redis_board(service.base_url, member_tokens[0], board, args.ready_timeout)
        log(f"leaderboard source before the reads: {source}")
        plan = {
            "balance": (members_file, "/api/v1/me/balance"),
            "board": (members_file, board),
            "board_admin": (admin_file, admin_board),
            "catalogue": (members_file, "/api/v1/rewards?limit=20"),
        }
        # The no-op and the bare read run beside the idle service (the bare read on its database) and
        # are measured before and after each read: on a shared machine the ceilings move from minute
        # to minute, and each read is divided by the mean of the two runs of each around it.
        socket_dir, port = postmaster_socket(service.data_dir / "postgres")
        bare_dsn = f"postgresql://postgres@/{DATABASE_NAME}?host={socket_dir}&port={port}"
        with NoopServer(server, args.workers, work_dir / "noop.log", bare_dsn) as noop:
            noop.postmaster_pid = service.postmaster_pid()

            def ceilings() -> None:
                noops.append(measure("litestar no-op", noop, noop_data, "/noop"))
                bares.append(measure("bare litestar + asyncpg read", noop, noop_data, "/bare-balance"))

            ceilings()
            for name in wanted:
                data_file, path = plan[name]
                results["reads"][name] = measure(name, service, data_file, path)
                ceilings()
                results["reads"][name]["noop_ok_rps"] = (noops[-2]["ok_rps"] + noops[-1]["ok_rps"]) / 2
                results["reads"][name]["bare_ok_rps"] = (bares[-2]["ok_rps"] + bares[-1]["ok_rps"]) / 2
        after = httpx.get(
            service.base_url + board, headers={"Authorization": f"Bearer {member_tokens[0]}"}, timeout=30
        ).headers.get("X-Leaderboard-Source")
        results["setup"]["board_source"] = {"before": source, "after": after}
    except KeyboardInterrupt:
        exit_code = 130
    except Exception as error:
        log(f"benchmark failed: {type(error).__name__}: {error}")
        exit_code = 1
    finally:
        service.stop()
    print_server_errors(service, exit_code == 1)
    if noops:
        results["noop"] = {
            "ok_rps": sum(n["ok_rps"] for n in noops) / len(noops),
            "p50_ms": max(n["p50_ms"] for n in noops),
            "p99_ms": max(n["p99_ms"] for n in noops),
            "runs": [round(n["ok_rps"]) for n in noops],
            "cpu_cores": noops[-1]["cpu_cores"],
        }
    if bares:
        results["bare_read"] = {
            "ok_rps": sum(b["ok_rps"] for b in bares) / len(bares),
            "p50_ms": max(b["p50_ms"] for b in bares),
            "p99_ms": max(b["p99_ms"] for b in bares),
            "runs": [round(b["ok_rps"]) for b in bares],
            "cpu_cores": bares[-1]["cpu_cores"],
            "non_2xx": sum(b["non_2xx"] for b in bares),
        }
    for result in results["reads"].values():
        if result["non_2xx"] or result["socket_error_count"]:
            exit_code = exit_code or 1

    noop_rate = (results.get("noop") or {}).get("ok_rps")
    table = Table()
    for name, result in results["reads"].items():
        ratio = result["ok_rps"] / result["noop_ok_rps"] if result.get("noop_ok_rps") else None
        table.row(
            f"{name}/s, p50, p99",
            f"{result['ok_rps']:.0f}, {result['p50_ms']:.1f} ms, {result['p99_ms']:.1f} ms",
            f">= {TARGET_RATIO} of no-op, p99 < {TARGET_P99_MS:.0f} ms",
            None if ratio is None else ratio >= TARGET_RATIO and result["p99_ms"] < TARGET_P99_MS,
        )
        if ratio is not None:
            table.row(f"  ratio {name} : no-op around it", f"{ratio:.2f} (no-op {result['noop_ok_rps']:.0f}/s)")
            result["ratio_to_noop"] = round(ratio, 3)
        if result.get("bare_ok_rps"):
            to_bare = result["ok_rps"] / result["bare_ok_rps"]
            table.row(f"  ratio {name} : bare read around it", f"{to_bare:.2f} (bare {result['bare_ok_rps']:.0f}/s)")
            result["ratio_to_bare_read"] = round(to_bare, 3)
    if noop_rate:
        noop = results["noop"]
        table.row(
            f"Litestar no-op ({server}): mean, worst p50, p99",
            f"{noop_rate:.0f}/s, {noop['p50_ms']:.1f} ms, {noop['p99_ms']:.1f} ms",
        )
        table.row("  no-op runs (before, after each read)", " ".join(str(n) for n in noop["runs"]))
    if bares:
        bare = results["bare_read"]
        table.row(
            "bare Litestar + asyncpg read: mean, worst p50, p99",
            f"{bare['ok_rps']:.0f}/s, {bare['p50_ms']:.1f} ms, {bare['p99_ms']:.1f} ms",
        )
        table.row("  bare read runs (before, after each read)", " ".join(str(b) for b in bare["runs"]))
        if noop_rate:
            table.row("  ratio bare read : no-op (means)", f"{bare['ok_rps'] / noop_rate:.2f}")
            bare["ratio_to_noop"] = round(bare["ok_rps"] / noop_rate, 3)
    table.print(
        f"Red Points reads — {server}, {args.workers} workers, wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s, load average at start {' '.join(results['setup']['loadavg_at_start'])}"
    )
    print_cpu_phases(
        [(name, result.get("cpu_cores")) for name, result in results["reads"].items()]
        + [("no-op", (results.get("noop") or {}).get("cpu_cores"))]
        + [("bare read", (results.get("bare_read") or {}).get("cpu_cores"))]
    )
    if profiler:
        results["profile"] = profiler.summaries
        print_profiles(profiler.summaries, functions=12)
        for phase, summary in profiler.summaries.items():
            print(f"  {phase} self by function: {summary.get('self_by_function_pct')}")
    if args.output:
        write_json(args.output, results)
    if args.keep_data:
        log(f"kept {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
