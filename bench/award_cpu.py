"""The app's CPU per award, in process: a figure that a busy machine moves far less than a rate.

The ASGI app is called directly (no HTTP server, no client library) by 32 callers at once, each posting
`POST /api/v1/admin/awards` for a random member, on embedded PostgreSQL and Valkey in a temporary folder.
It prints the process's CPU seconds per award and the awards per group-commit batch (fewer per batch
costs more per award, so compare runs of similar batch sizes). Run from a worktree's root with its venv;
it runs the code of the folder it is started in, so two versions can be compared back to back:

    .venv/bin/python bench/award_cpu.py [--awards 3000] [--members 300] [--profile out.prof]

Under `py-spy record -f raw` it gives where an award's CPU goes (issue 19, bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# The code of the folder it is started in, ahead of the venv's own install.
sys.path.insert(0, os.getcwd())

from points_service.app import create_app
from points_service.auth.accounts import create_login
from points_service.database.group_commit import GroupCommit
from points_service.database.migrate import upgrade
from points_service.database.session import create_engine, session_factory
from points_service.embedded import embedded_services
from points_service.settings import Settings

try:
    from points_service.bootstrap import create_tenant
except ImportError:  # the code of 2026-12-05 (c95caa2), for comparisons
    from points_service.tenancy.service import create_tenant  # type: ignore[no-redef]

PASSWORD = "correct-horse-battery"  # noqa: S105 - a throwaway database's admin
CALLERS = 32
BATCHES = [0]


async def call(app: Any, method: str, path: str, body: dict[str, Any] | None, token: str | None) -> tuple[int, bytes]:
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if token:
        headers.append((b"authorization", b"Bearer " + token.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    received = False
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


def count_batches() -> None:
    write_together = GroupCommit._write_together

    async def counted(self: Any, key: Any, items: list[Any]) -> Any:
        BATCHES[0] += 1
        return await write_together(self, key, items)

    GroupCommit._write_together = counted  # type: ignore[method-assign]


async def measure(args: argparse.Namespace, database_url: str, redis_url: str) -> None:
    count_batches()
    settings = Settings(
        database_url=database_url, redis_url=redis_url, jwt_secret="bench-secret-" + "x" * 40, daily_warnings_at=None
    )
    engine = create_engine(database_url, pool_size=2)
    async with session_factory(engine)() as session, session.begin():
        tenant = await create_tenant(session, "街道" + uuid.uuid4().hex[:6])
        await create_login(session, tenant.id, "benchadmin", PASSWORD, "admin")
    await engine.dispose()
    app = create_app(settings)
    async with app.lifespan():
        _, body = await call(app, "POST", "/api/v1/auth/login", {"username": "benchadmin", "password": PASSWORD}, None)
        token = json.loads(body)["access_token"]
        unit_body = {"name": "红旗社区", "kind": "community", "parent_id": None}
        _, body = await call(app, "POST", "/api/v1/admin/org-units", unit_body, token)
        unit = json.loads(body)["id"]
        members = []
        for index in range(args.members):
            member = {"name": f"张{index}", "phone": f"139{index:08d}", "org_unit_id": unit, "party_status": "none"}
            status, body = await call(app, "POST", "/api/v1/admin/members", member, token)
            assert status == 201, body
            members.append(json.loads(body)["id"])
        rule = {"code": "BENCH", "name": "规则", "category": "volunteer", "points": 10, "unit": "each"}
        status, body = await call(app, "POST", "/api/v1/admin/rules", rule, token)
        assert status == 201, body
        rng = random.Random(args.seed)
        statuses: dict[int, int] = {}

        async def caller(count: int) -> None:
            for _ in range(count):
                award = {"member_id": rng.choice(members), "rule_code": "BENCH", "quantity": 1}
                status, body = await call(app, "POST", "/api/v1/admin/awards", award, token)
                statuses[status] = statuses.get(status, 0) + 1
                if status != 201 and statuses[status] == 1:
                    print("first refusal:", status, body[:300].decode(errors="replace"))

        # Warm-up: prepared statements, caches, the leaderboards built.
        await asyncio.gather(*(caller(max(args.awards // 10 // CALLERS, 1)) for _ in range(CALLERS)))
        profile = cProfile.Profile() if args.profile else None
        each = args.awards // CALLERS
        BATCHES[0] = 0
        cpu, wall = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        await asyncio.gather(*(caller(each) for _ in range(CALLERS)))
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        awards = each * CALLERS
        print(
            f"{awards} awards: {cpu / awards * 1000:.3f} ms of app CPU each, {awards / max(BATCHES[0], 1):.1f} per "
            f"batch, {wall:.1f} s; statuses {statuses}; load average {os.getloadavg()[0]:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--awards", type=int, default=3000)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", default=None, help="also write a cProfile of the measured awards here")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="award-cpu-") as data_dir,
        embedded_services(Path(data_dir), database_name="award_cpu") as embedded,
    ):
        upgrade(embedded.database_url)
        asyncio.run(measure(args, embedded.database_url, embedded.redis_url))


if __name__ == "__main__":
    main()
