"""Test infrastructure: a real PostgreSQL and a real Redis, the real app served over real HTTP.

By default both servers are the embedded ones (as on a newcomer's machine); TEST_DATABASE_URL and
TEST_REDIS_URL point the suite at external servers instead. The schema is built by Alembic.
Each test gets a tenant of its own, so tests are isolated and tenancy is exercised all the time.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from points_service.app import create_app
from points_service.auth.accounts import create_login
from points_service.bootstrap import create_tenant
from points_service.database.migrate import upgrade
from points_service.database.session import create_engine, session_factory
from points_service.settings import Settings

JWT_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if database_url and redis_url:
        upgrade(database_url)
        yield Services(database_url, redis_url)
        return
    from points_service.embedded import embedded_services

    with (
        tempfile.TemporaryDirectory(prefix="red-points-test-") as data_dir,
        embedded_services(Path(data_dir), database_name="red_points_test") as embedded,
    ):
        upgrade(embedded.database_url)
        yield Services(database_url or embedded.database_url, redis_url or embedded.redis_url)


def settings_for(services: Services, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": services.database_url,
        "redis_url": services.redis_url,
        "jwt_secret": JWT_SECRET,
        # Tests run the daily warnings themselves, for their own tenant, when they mean to.
        "daily_warnings_at": None,
        **overrides,
    }
    return Settings(**values)


class ServedApp:
    """The app under uvicorn on a free port in a thread of its own: requests really run concurrently."""

    def __init__(self, settings: Settings) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        # As `points-service serve`: forwarded headers are the app's business (POINTS_TRUSTED_PROXIES).
        config = uvicorn.Config(
            create_app(settings), log_level="warning", access_log=False, lifespan="on", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ServedApp:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the app did not start")
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def served(services: Services) -> Iterator[ServedApp]:
    with ServedApp(settings_for(services)) as app:
        yield app


@pytest.fixture(scope="session")
async def engine(services: Services) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(services.database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


async def drop_connections(sessions: async_sessionmaker[AsyncSession], application_name: str) -> int:
    """Terminate every PostgreSQL connection an app opened (as a failover or restart would); how many."""
    async with sessions() as session, session.begin():
        dropped = await session.scalar(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": application_name},
        )
    return int(dropped or 0)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Community:
    """One tenant with an admin signed in, and shortcuts that go through the HTTP API."""

    def __init__(self, base_url: str, tenant_id: uuid.UUID, admin_username: str) -> None:
        self.base_url = base_url
        self.tenant_id = tenant_id
        self.admin_username = admin_username
        self.anonymous = httpx.AsyncClient(base_url=base_url, timeout=60)
        self.admin: httpx.AsyncClient = self.anonymous
        self._clients: list[httpx.AsyncClient] = [self.anonymous]

    async def client_for(self, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
        response = await self.anonymous.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=60,
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
            limits=httpx.Limits(max_connections=200),
        )
        self._clients.append(client)
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def org_unit(
        self,
        name: str = "红旗社区",
        kind: str = "community",
        parent_id: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> str:
        response = await (client or self.admin).post(
            "/api/v1/admin/org-units", json={"name": name, "kind": kind, "parent_id": parent_id}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def member(
        self,
        org_unit_id: str,
        name: str = "张三",
        login: bool = False,
        client: httpx.AsyncClient | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "phone": f"139{uuid.uuid4().int % 10**8:08d}",
            "org_unit_id": org_unit_id,
            "party_status": "none",
            **fields,
        }
        if login:
            body.update(username=unique("m"), password=PASSWORD)
        response = await (client or self.admin).post("/api/v1/admin/members", json=body)
        assert response.status_code == 201, response.text
        return {**response.json(), "username": body.get("username"), "phone": body["phone"]}

    async def rule(self, points: int = 10, category: str = "volunteer", unit: str = "each", **fields: Any) -> str:
        code = unique("R").upper().replace("-", "_")
        response = await self.admin.post(
            "/api/v1/admin/rules",
            json={"code": code, "name": "规则", "category": category, "points": points, "unit": unit, **fields},
        )
        assert response.status_code == 201, response.text
        return code

    async def staff(self, org_unit_id: str) -> httpx.AsyncClient:
        username = unique("s")
        response = await self.admin.post(
            "/api/v1/admin/staff",
            json={"username": username, "password": PASSWORD, "org_unit_id": org_unit_id, "role": "staff"},
        )
        assert response.status_code == 201, response.text
        return await self.client_for(username)

    async def award(self, member_id: str, rule_code: str, quantity: float = 1) -> httpx.Response:
        return await self.admin.post(
            "/api/v1/admin/awards", json={"member_id": member_id, "rule_code": rule_code, "quantity": quantity}
        )

    async def adjust(self, member_id: str, amount: int, reason: str = "纠正") -> httpx.Response:
        return await self.admin.post(
            "/api/v1/admin/adjustments", json={"member_id": member_id, "amount": amount, "reason": reason}
        )

    async def balance(self, member: dict[str, Any]) -> dict[str, Any]:
        client = await self.client_for(member["username"])
        response = await client.get("/api/v1/me/balance")
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def ledger(self, member_id: str) -> list[dict[str, Any]]:
        response = await self.admin.get(f"/api/v1/admin/members/{member_id}/ledger", params={"limit": 200})
        assert response.status_code == 200, response.text
        return list(response.json()["items"])


@asynccontextmanager
async def new_community(served: ServedApp, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Community]:
    """A tenant of its own with its admin signed in."""
    admin_username = unique("admin")
    async with sessions() as session, session.begin():
        tenant = await create_tenant(session, unique("街道"))
        await create_login(session, tenant.id, admin_username, PASSWORD, "admin")
    community = Community(served.base_url, tenant.id, admin_username)
    community.admin = await community.client_for(admin_username)
    try:
        yield community
    finally:
        await community.close()


@pytest.fixture
async def community(served: ServedApp, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Community]:
    async with new_community(served, sessions) as community:
        yield community
