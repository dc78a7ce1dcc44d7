"""Spreadsheet imports and exports at a street's size: an 8,000-row member sheet imported over HTTP (dry
run, then the real run), the same rows written by a plain PostgreSQL COPY for scale, and the export of
the 8,000 members as .xlsx and .csv.

    .venv/bin/python bench/imports.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench \
        --redis-url redis://127.0.0.1:6379/5 [--members 8000]

The database is migrated to head first; the run makes a tenant of its own and leaves it there. Without
the URLs the embedded PostgreSQL and Valkey start in a temporary folder. The service runs in this process
under uvicorn (one worker), as the tests run it. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import socket
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from openpyxl import Workbook
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from points_service.app import create_app
from points_service.auth.accounts import create_login
from points_service.bootstrap import create_tenant
from points_service.database.migrate import upgrade
from points_service.database.session import create_engine, session_factory
from points_service.demo import GIVEN, SURNAMES
from points_service.org.imports import MEMBER_COLUMNS, PARTY_LABELS
from points_service.org.names import pinyin_initials
from points_service.settings import Settings

PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway benchmark tenant
AREAS, GROUPS = 6, 5


def sheet_rows(members: int, seed: int = 7) -> list[list[str]]:
    chance = random.Random(seed)
    statuses = list(PARTY_LABELS.values())
    rows = []
    for index in range(members):
        area = index % AREAS + 1
        group = index // AREAS % GROUPS + 1
        rows.append(
            [
                chance.choice(SURNAMES) + chance.choice(GIVEN),
                f"186{index:08d}",
                f"第{area}小区/{group}号楼党小组",
                chance.choice(statuses),
                "楼栋长" if index % 50 == 0 else "",
                "",
            ]
        )
    return rows


def xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("成员")
    sheet.append(MEMBER_COLUMNS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class Served:
    def __init__(self, settings: Settings) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


async def copy_baseline(database_url: str, tenant_id: uuid.UUID, unit_id: uuid.UUID, rows: list[list[str]]) -> float:
    """The same members written by COPY into the members table, in a transaction rolled back afterwards."""
    url = make_url(database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        transaction = connection.transaction()
        await transaction.start()
        records = [
            (tenant_id, uuid.uuid4(), name, "187" + phone[3:], unit_id, "none", position or None, pinyin_initials(name))
            for name, phone, _, _, position, _ in rows
        ]
        started = time.perf_counter()
        await connection.copy_records_to_table(
            "members",
            records=records,
            columns=[
                "tenant_id",
                "id",
                "name",
                "phone",
                "org_unit_id",
                "party_status",
                "cadre_position",
                "pinyin_initials",
            ],
        )
        elapsed = time.perf_counter() - started
        await transaction.rollback()
        return elapsed
    finally:
        await connection.close()


async def run(database_url: str, redis_url: str, members: int) -> None:
    engine = create_engine(database_url, pool_size=2)
    admin = f"bench-import-{uuid.uuid4().hex[:8]}"
    async with session_factory(engine)() as session, session.begin():
        tenant = await create_tenant(session, f"导入基准 {admin}")
        await create_login(session, tenant.id, admin, PASSWORD, "admin")
    await engine.dispose()
    settings = Settings(database_url=database_url, redis_url=redis_url, jwt_secret="b" * 40, daily_warnings_at=None)
    rows = sheet_rows(members)
    content = xlsx(rows)
    with Served(settings) as served:
        async with httpx.AsyncClient(base_url=served.base_url, timeout=600) as client:
            token = (await client.post("/api/v1/auth/login", json={"username": admin, "password": PASSWORD})).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"

            async def unit(name: str, kind: str, parent: str | None) -> str:
                answer = await client.post(
                    "/api/v1/admin/org-units", json={"name": name, "kind": kind, "parent_id": parent}
                )
                return str(answer.json()["id"])

            community = await unit("基准社区", "community", None)
            for area in range(1, AREAS + 1):
                area_id = await unit(f"第{area}小区", "area", community)
                for group in range(1, GROUPS + 1):
                    await unit(f"{group}号楼党小组", "group", area_id)

            async def send(dry_run: bool) -> tuple[float, dict[str, object]]:
                started = time.perf_counter()
                answer = await client.post(
                    "/api/v1/admin/imports/members",
                    files={"file": ("members.xlsx", content)},
                    data={"org_unit_id": community, "dry_run": str(dry_run).lower()},
                )
                elapsed = time.perf_counter() - started
                assert answer.status_code == 200, answer.text[:2000]
                return elapsed, answer.json()

            dry, dry_answer = await send(True)
            real, real_answer = await send(False)
            again, again_answer = await send(False)
            exports = {}
            for fmt in ("xlsx", "csv"):
                started = time.perf_counter()
                answer = await client.get(
                    "/api/v1/admin/members/export", params={"org_unit_id": community, "format": fmt}
                )
                exports[fmt] = (time.perf_counter() - started, len(answer.content))
    copy = await copy_baseline(database_url, tenant.id, uuid.UUID(community), rows)
    print(f"member sheet: {members} rows, {len(content) / 1024:.0f} KiB .xlsx")
    print(f"dry run:           {dry:6.2f} s  {dry_answer}")
    print(f"real run:          {real:6.2f} s  created {real_answer['created']}")
    print(f"same sheet again:  {again:6.2f} s  unchanged {again_answer['unchanged']}")
    print(
        f"plain COPY:        {copy:6.3f} s  (real run / COPY = {real / copy:.0f}x, dry run / COPY = {dry / copy:.0f}x)"
    )
    for fmt, (seconds, size) in exports.items():
        print(f"export {fmt}:       {seconds:6.2f} s  {size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--members", type=int, default=8000)
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url, redis_url = args.database_url, args.redis_url
        if not database_url or not redis_url:
            from points_service.embedded import embedded_services

            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-imports-"))
            embedded = stack.enter_context(embedded_services(Path(folder), database_name="bench_imports"))
            database_url = database_url or embedded.database_url
            redis_url = redis_url or embedded.redis_url
        upgrade(database_url)
        asyncio.run(run(database_url, redis_url, args.members))


if __name__ == "__main__":
    main()
