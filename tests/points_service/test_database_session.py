"""The request's unit of work: what a refused savepoint undoes besides its rows."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
