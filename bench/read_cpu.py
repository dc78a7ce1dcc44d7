"""The CPU one hot read costs the app, in this process: the ASGI app called directly in a loop (no server,
no socket to the client) against a real PostgreSQL and Redis, `time.process_time()` around each batch.
Steadier than HTTP on a shared machine (the figure is this process's CPU, not a rate the neighbours
share), so a cut can be weighed before the HTTP run that measures it in the same minute as its ceilings.

    TEST_DATABASE_URL=postgresql+asyncpg://... TEST_REDIS_URL=redis://.../N \\
        .venv/bin/python bench/read_cpu.py [--requests 2000] [--rounds 3] [--only balance,board,...]

Sets up its own tenant (one community of 4 grids, 16 members with logins and awards, a merchant with 12
rewards) through the API, waits until the boards answer from Redis, then reads each hot read of
bench/reads.py in turn, rounds interleaved, and prints the least CPU per request of the rounds (the
round a busier second spoiled least), beside a Litestar no-op called the same way. `--profile FILE`
writes a cProfile of one more round of each read.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from litestar import Litestar, get

from points_service.app import create_app
from points_service.auth.accounts import create_login
from points_service.bootstrap import create_tenant
from points_service.database.migrate import upgrade
from points_service.database.session import create_engine, session_factory
from points_service.settings import Settings

PASSWORD = "bench-read-cpu-password"  # noqa: S105 - a throwaway benchmark tenant


@get("/noop", sync_to_thread=False)
def noop() -> dict[str, bool]:
    return {"ok": True}


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class Sink:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))


def scope(path: str, token: str | None) -> dict[str, Any]:
    route, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"*/*")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
        "state": {},
    }


async def call(app: Any, path: str, token: str | None) -> Sink:
    sink = Sink()
    await app(scope(path, token), receive, sink)
    return sink


async def set_up(app: Any, database_url: str, members: int) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    engine = create_engine(database_url, pool_size=2)
    async with session_factory(engine)() as session, session.begin():
        tenant = await create_tenant(session, f"CPU基准-{suffix}")
        await create_login(session, tenant.id, f"cpu-admin-{suffix}", PASSWORD, "admin")
    await engine.dispose()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=120) as client:

        async def token(username: str) -> str:
            answer = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        admin = await token(f"cpu-admin-{suffix}")

        async def post(path: str, body: dict[str, Any], bearer: str) -> Any:
            answer = await client.post(path, json=body, headers={"Authorization": f"Bearer {bearer}"})
            if answer.status_code != 201:
                raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text[:400]}")
            return answer.json()

        root = await post("/api/v1/admin/org-units", {"name": "CPU社区", "kind": "community", "parent_id": None}, admin)
        units = [
            await post(
                "/api/v1/admin/org-units", {"name": f"第{i + 1}网格", "kind": "grid", "parent_id": root["id"]}, admin
            )
            for i in range(4)
        ]
        rule = f"cpu_{suffix}"
        await post(
            "/api/v1/admin/rules",
            {"code": rule, "name": "CPU积分", "category": "volunteer", "points": 5, "unit": "each"},
            admin,
        )
        clerk_name = f"cpu-clerk-{suffix}"
        merchant = {"name": "CPU超市", "address": "基准路 3 号", "org_unit_id": root["id"]}
        await post("/api/v1/admin/merchants", {**merchant, "username": clerk_name, "password": PASSWORD}, admin)
        clerk = await token(clerk_name)
        for i in range(12):
            await post("/api/v1/merchant/rewards", {"title": f"奖品{i + 1}", "points_price": 10, "stock": None}, clerk)
        tokens = []
        for i in range(members):
            username = f"cpu-reader-{suffix}-{i}"
            body = {
                "name": f"读者{i}",
                "phone": f"135{uuid.uuid4().int % 10**8:08d}",
                "org_unit_id": units[i % len(units)]["id"],
                "party_status": "none",
                "username": username,
                "password": PASSWORD,
            }
            member = await post("/api/v1/admin/members", body, admin)
            for _ in range(1 + i % 3):
                await post("/api/v1/admin/awards", {"member_id": member["id"], "rule_code": rule, "quantity": 1}, admin)
            tokens.append(await token(username))
    return {"admin": admin, "root": root["id"], "tokens": tokens}


async def cpu_per_request(
    app: Any, path: str, tokens: list[str], requests: int
) -> tuple[float, Counter[int], Counter[str]]:
    turns = itertools.cycle(tokens)
    statuses: Counter[int] = Counter()
    sources: Counter[str] = Counter()
    started = time.process_time()
    for _ in range(requests):
        sink = await call(app, path, next(turns))
        statuses[sink.status] += 1
        sources.update(v.decode() for k, v in sink.headers if k == b"x-leaderboard-source")
    return (time.process_time() - started) / requests, statuses, sources


async def main_async(args: argparse.Namespace) -> None:
    database_url = os.environ["TEST_DATABASE_URL"]
    redis_url = os.environ["TEST_REDIS_URL"]
    settings = Settings(
        database_url=database_url, redis_url=redis_url, jwt_secret="bench-" + "x" * 40, daily_warnings_at=None
    )
    app = create_app(settings)
    ceiling = Litestar(route_handlers=[noop], logging_config=None, debug=False)
    async with app.lifespan():
        setup = await set_up(app, database_url, args.members)
        board = "/api/v1/leaderboards?period=month&limit=20"
        plan = {
            "balance": ("/api/v1/me/balance", setup["tokens"]),
            "board": (board, setup["tokens"]),
            "board_admin": (f"{board}&org_unit_id={setup['root']}", [setup["admin"]]),
            "catalogue": ("/api/v1/rewards?limit=20", setup["tokens"]),
        }
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sink = await call(app, board, setup["tokens"][0])
            if (b"x-leaderboard-source", b"redis") in sink.headers:
                break
            await asyncio.sleep(0.5)
        wanted = args.only.split(",")
        for name in wanted:  # warm: caches, prepared statements, the kept connection
            await cpu_per_request(app, plan[name][0], plan[name][1], 300)
        await cpu_per_request(ceiling, "/noop", [""], 300)
        spent: dict[str, list[float]] = {name: [] for name in [*wanted, "no-op"]}
        seen: dict[str, tuple[Counter[int], Counter[str]]] = {}
        for _ in range(args.rounds):
            for name in wanted:
                cpu, statuses, sources = await cpu_per_request(app, plan[name][0], plan[name][1], args.requests)
                spent[name].append(cpu)
                seen[name] = (statuses, sources)
            spent["no-op"].append((await cpu_per_request(ceiling, "/noop", [""], args.requests))[0])
        if args.profile:
            for name in wanted:
                # CPU time, not wall time: on a shared machine a preempted call would look expensive.
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                await cpu_per_request(app, plan[name][0], plan[name][1], args.requests)
                profiler.disable()
                profiler.dump_stats(f"{args.profile}.{name}")
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"CPU per request in process ({args.requests} requests x {args.rounds} rounds; load average {load}):")
    for name, values in spent.items():
        statuses, sources = seen.get(name, (Counter(), Counter()))
        extra = f" status {dict(statuses)}" + (f" source {dict(sources)}" if sources else "")
        print(f"  {name:12} {min(values) * 1e3:.3f} ms (rounds {' '.join(f'{v * 1e3:.3f}' for v in values)}){extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--only", default="balance,board,board_admin,catalogue")
    parser.add_argument("--profile", default=None, help="write cProfile stats of each read to FILE.<read>")
    args = parser.parse_args()
    upgrade(os.environ["TEST_DATABASE_URL"])  # Alembic runs its own event loop
    # As under `serve` (granian's workers run uvloop).
    import uvloop

    uvloop.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
