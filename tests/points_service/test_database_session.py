"""The request's unit of work: what a refused savepoint undoes besides its rows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.database.driver import DriverStatement
from points_service.database.session import after_commit, on_rollback, run_after_commit, savepoint
from points_service.errors import NotFound


async def test_a_refused_savepoint_forgets_its_after_commit_work_and_undoes_its_outside_work(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    happened: list[str] = []

    async def note(what: str) -> None:
        happened.append(what)

    async with sessions() as session:
        async with session.begin():
            after_commit(session, lambda: note("kept leaderboard update"))
            with pytest.raises(NotFound):
                async with savepoint(session):
                    after_commit(session, lambda: note("refused leaderboard update"))
                    on_rollback(session, lambda: note("stock given back"))
                    raise NotFound("refused")
        await run_after_commit(session)

    assert happened == ["stock given back", "kept leaderboard update"]


@pytest.fixture
async def probe_table(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    async with sessions() as session, session.begin():
        await session.execute(text("DROP TABLE IF EXISTS driver_probe"))
        await session.execute(text("CREATE TABLE driver_probe (id int PRIMARY KEY, n int NOT NULL)"))
        await session.execute(text("INSERT INTO driver_probe VALUES (1, 0)"))
    yield
    async with sessions() as session, session.begin():
        await session.execute(text("DROP TABLE driver_probe"))


@pytest.mark.usefixtures("probe_table")
async def test_a_driver_statement_first_in_a_session_runs_inside_its_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Batches run their statements on the session's asyncpg connection (database/driver.py): one that
    comes before any SQLAlchemy statement must still be undone by a rollback and hold its row locks
    until the end, not commit on its own."""
    bump = DriverStatement(text("UPDATE driver_probe SET n = n + :by WHERE id = 1 RETURNING n"))
    lock = DriverStatement(text("SELECT n FROM driver_probe WHERE id = 1 FOR UPDATE"))

    async with sessions() as session, session.begin():
        assert [row["n"] for row in await lock.fetch(session, {})] == [0]
        async with sessions() as other, other.begin():
            with pytest.raises(DBAPIError, match="lock"):
                await other.execute(text("SELECT n FROM driver_probe WHERE id = 1 FOR UPDATE NOWAIT"))
        assert [row["n"] for row in await bump.fetch(session, {"by": 5})] == [5]
        await session.rollback()

    async with sessions() as session:
        assert await session.scalar(text("SELECT n FROM driver_probe WHERE id = 1")) == 0
