"""Health checks, the OpenAPI document, and the service with Redis or PostgreSQL out of reach (docs/api.md, "Start-up").

Redis holds only what can be rebuilt (docs/architecture.md): with it down, points are still earned and
read and people still sign in. PostgreSQL is the source of truth: with it down, the service is not ready.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.accounts import create_login
from points_service.bootstrap import create_tenant
from tests.conftest import PASSWORD, Community, ServedApp, Services, drop_connections, settings_for, unique

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"


@pytest.fixture(scope="module")
def without_redis(services: Services) -> Iterator[ServedApp]:
    with ServedApp(settings_for(services, redis_url=UNREACHABLE_REDIS)) as app:
        yield app


@pytest.fixture(scope="module")
def without_database(services: Services) -> Iterator[ServedApp]:
    with ServedApp(settings_for(services, database_url=UNREACHABLE_DATABASE)) as app:
        yield app


@pytest.fixture
async def community_without_redis(
    without_redis: ServedApp, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Community]:
    """A tenant of its own whose admin signs in to the app that cannot reach Redis."""
    admin_username = unique("admin")
    async with sessions() as session, session.begin():
        tenant = await create_tenant(session, unique("街道"))
        await create_login(session, tenant.id, admin_username, PASSWORD, "admin")
    community = Community(without_redis.base_url, tenant.id, admin_username)
    community.admin = await community.client_for(admin_username)
    try:
        yield community
    finally:
        await community.close()


async def get(base_url: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        return await client.get(path)


# -- healthy ---------------------------------------------------------------------------------------


async def test_live_answers_200(served: ServedApp) -> None:
    response = await get(served.base_url, "/health/live")

    assert response.status_code == 200, response.text


async def test_ready_reports_database_and_redis_up(served: ServedApp) -> None:
    response = await get(served.base_url, "/health/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "up", "redis": "up"}


async def test_health_needs_no_token(served: ServedApp) -> None:
    live = await get(served.base_url, "/health/live")
    ready = await get(served.base_url, "/health/ready")

    assert (live.status_code, ready.status_code) == (200, 200)


async def test_openapi_document_lists_the_public_paths(served: ServedApp) -> None:
    response = await get(served.base_url, "/schema/openapi.json")

    assert response.status_code == 200, response.text
    paths = response.json()["paths"]
    assert "/api/v1/admin/awards" in paths
    assert "post" in paths["/api/v1/admin/awards"]
    assert "/api/v1/me/balance" in paths
    assert "get" in paths["/api/v1/me/balance"]
    assert "/api/v1/auth/login" in paths


# -- Redis out of reach ----------------------------------------------------------------------------


async def test_ready_without_redis_is_200_with_redis_down(without_redis: ServedApp) -> None:
    response = await get(without_redis.base_url, "/health/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "up", "redis": "down"}


async def test_login_works_without_redis(community_without_redis: Community) -> None:
    response = await community_without_redis.anonymous.post(
        "/api/v1/auth/login", json={"username": community_without_redis.admin_username, "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"
    assert response.json()["access_token"]


async def test_wrong_password_without_redis_is_still_refused(community_without_redis: Community) -> None:
    response = await community_without_redis.anonymous.post(
        "/api/v1/auth/login", json={"username": community_without_redis.admin_username, "password": "wrong-password"}
    )

    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_credentials"


async def test_failed_logins_are_still_limited_without_redis(community_without_redis: Community) -> None:
    # The limiter fails open to a per-process counter, not to no limit at all.
    username = community_without_redis.admin_username
    for _ in range(5):
        response = await community_without_redis.anonymous.post(
            "/api/v1/auth/login", json={"username": username, "password": "wrong-password"}
        )
        assert response.status_code == 401, response.text

    locked = await community_without_redis.anonymous.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )

    assert locked.status_code == 429, locked.text
    assert locked.json()["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) >= 1


async def test_awards_and_balance_work_without_redis(community_without_redis: Community) -> None:
    community = community_without_redis
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    rule = await community.rule(points=20)

    response = await community.award(member["id"], rule, quantity=2)

    assert response.status_code == 201, response.text
    assert response.json()["balance"] == 40
    balance = await community.balance(member)
    assert balance["available"] == 40
    assert balance["earned_total"] == 40


async def test_metrics_count_what_went_on_without_redis(community_without_redis: Community) -> None:
    def fallbacks(metrics: str) -> float:
        families = text_string_to_metric_families(metrics)
        return sum(
            sample.value
            for family in families
            for sample in family.samples
            if sample.name == "points_redis_fallbacks_total" and sample.labels["where"] == "rate_limiter"
        )

    before = fallbacks((await get(community_without_redis.base_url, "/metrics")).text)
    await community_without_redis.anonymous.post(
        "/api/v1/auth/login", json={"username": unique("nobody"), "password": "wrong-password"}
    )

    assert fallbacks((await get(community_without_redis.base_url, "/metrics")).text) > before


# -- PostgreSQL out of reach -----------------------------------------------------------------------


async def test_ready_without_database_is_503(without_database: ServedApp) -> None:
    response = await get(without_database.base_url, "/health/ready")

    assert response.status_code == 503, response.text
    assert response.json()["database"] == "down"
    assert response.json()["status"] != "ok"


async def test_live_without_database_is_200(without_database: ServedApp) -> None:
    response = await get(without_database.base_url, "/health/live")

    assert response.status_code == 200, response.text


# -- PostgreSQL drops the service's connections (a restart, a failover) -----------------------------


async def test_requests_recover_after_the_database_drops_every_connection(
    services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The pool does not ping before each checkout: a request that meets a dropped connection may
    answer 503 (never 500), and the service answers normally right after, with nothing restarted."""
    application_name = unique("dropped")
    admin_username = unique("admin")
    async with sessions() as session, session.begin():
        tenant = await create_tenant(session, unique("街道"))
        await create_login(session, tenant.id, admin_username, PASSWORD, "admin")
    with ServedApp(settings_for(services, database_application_name=application_name)) as app:
        community = Community(app.base_url, tenant.id, admin_username)
        community.admin = await community.client_for(admin_username)
        try:
            assert (await community.admin.get("/api/v1/admin/members")).status_code == 200
            dropped = await drop_connections(sessions, application_name)
            assert dropped >= 1

            first = await community.admin.get("/api/v1/admin/members")
            assert first.status_code in (200, 503), first.text
            if first.status_code == 503:
                assert first.json()["code"] == "unavailable"
            after = [(await community.admin.get("/api/v1/admin/members")).status_code for _ in range(3)]
            assert after == [200, 200, 200]
        finally:
            await community.close()
