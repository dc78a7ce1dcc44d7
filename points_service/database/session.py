"""Engine and the per-request unit of work: one session, one transaction, committed by the request scope."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)


def create_engine(database_url: str, pool_size: int = 20, application_name: str = "red-points") -> AsyncEngine:
    return create_async_engine(
        database_url,
        # Names the service's connections in pg_stat_activity, for operators (and the tests).
        connect_args={"server_settings": {"application_name": application_name}},
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip on every checkout. A connection the server dropped is
        # detected on use instead (answered 503 once, see errors.py) and the pool replaced.
        pool_pre_ping=False,
        pool_recycle=3600,
        pool_timeout=30,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, work: AfterCommit) -> None:
    """Queue work for Redis (or any rebuildable store) that must only happen if this commits."""
    session.info.setdefault("after_commit", []).append(work)


def after_commit_mark(session: AsyncSession) -> int:
    return len(session.info.setdefault("after_commit", []))


def drop_after_commit_since(session: AsyncSession, mark: int) -> None:
    """A savepoint rolled back: forget what its work queued."""
    del session.info.setdefault("after_commit", [])[mark:]


async def run_after_commit(session: AsyncSession) -> None:
    for work in session.info.pop("after_commit", []):
        try:
            await work()
        except Exception:
            logger.exception("after-commit work failed; a rebuild restores it")


# Route option of a handler that only reads, and answers from one statement (one snapshot).
READS_ONE_SNAPSHOT = "reads_one_snapshot"


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions in autocommit: no BEGIN and COMMIT round trips around a single read. Only for
    handlers that write nothing and read in one statement, since separate statements here do not
    share a snapshot."""
    return session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """Commit when the handler returns; roll back when it raises, so a refusal writes nothing.
    Work queued with `after_commit` runs once the commit has succeeded, and is dropped otherwise.
    A handler marked `opt={READS_ONE_SNAPSHOT: True}` gets an autocommit session instead."""
    if request.route_handler.opt.get(READS_ONE_SNAPSHOT):
        async with state.read_session_factory() as session:
            yield session
        return
    async with state.session_factory() as session:
        async with session.begin():
            yield session
        await run_after_commit(session)
