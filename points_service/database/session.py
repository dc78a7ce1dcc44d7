"""Engine and the per-request unit of work: one session, one transaction, committed by the request scope."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from points_service.database.dead_connections import replace_closed_connections

logger = logging.getLogger(__name__)


def create_engine(
    database_url: str,
    pool_size: int = 20,
    application_name: str = "red-points",
    autocommit: bool = False,
    wait_for_wal_flush: bool = True,
) -> AsyncEngine:
    """`autocommit`: every statement commits on its own; set once per connection, not per checkout.
    `wait_for_wal_flush=False`: a commit answers before its WAL reaches the disk
    (`synchronous_commit = off`), for work whose durability a later synchronous commit provides."""
    # Names the service's connections in pg_stat_activity, for operators (and the tests).
    server_settings = {"application_name": application_name}
    if not wait_for_wal_flush:
        server_settings["synchronous_commit"] = "off"
    engine = create_async_engine(
        database_url,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
        connect_args={"server_settings": server_settings},
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip on every checkout. A connection whose socket the server
        # closed is replaced at checkout without one (database/dead_connections.py); one that dies in use
        # answers 503 once (errors.py) and is replaced.
        pool_pre_ping=False,
        pool_recycle=3600,
        pool_timeout=30,
    )
    replace_closed_connections(engine)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class SessionOnUse:
    """A session made only when a statement is about to run: a read that Redis and the process's caches
    answer never builds one (building and closing an unused AsyncSession cost a board read about
    35 µs). Call it for the session; `close` closes it if it was made. For reads only."""

    __slots__ = ("_factory", "_session")

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None

    def __call__(self) -> AsyncSession:
        if self._session is None:
            self._session = self._factory()
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, work: AfterCommit) -> None:
    """Queue work for Redis (or any rebuildable store) that must only happen if this commits."""
    session.info.setdefault("after_commit", []).append(work)


def on_rollback(session: AsyncSession, work: AfterCommit) -> None:
    """Queue work that undoes, outside this transaction, what was done outside it on its behalf
    (stock taken in a transaction of its own), should this transaction not commit."""
    session.info.setdefault("on_rollback", []).append(work)


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """A savepoint for work that may be refused while the request goes on. If it rolls back, the
    after-commit work queued inside it is forgotten and its `on_rollback` work runs, as a whole
    transaction's would."""
    after_commit_mark = len(session.info.setdefault("after_commit", []))
    on_rollback_mark = len(session.info.setdefault("on_rollback", []))
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        del session.info["after_commit"][after_commit_mark:]
        undo = session.info["on_rollback"][on_rollback_mark:]
        del session.info["on_rollback"][on_rollback_mark:]
        await _run(undo, "undo after a rollback failed")
        raise


async def _run(works: list[AfterCommit], failure: str) -> None:
    for work in works:
        try:
            await work()
        except Exception:
            logger.exception(failure)


async def run_after_commit(session: AsyncSession) -> None:
    await _run(session.info.pop("after_commit", []), "after-commit work failed; a rebuild restores it")


# Route option of a handler that only reads, and answers from one statement (one snapshot).
READS_ONE_SNAPSHOT = "reads_one_snapshot"


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions in autocommit: no BEGIN and COMMIT round trips around a single read. Only for
    handlers that write nothing and read in one statement, since separate statements here do not
    share a snapshot."""
    return session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session, one transaction: committed when the block ends, rolled back when it raises.
    Work queued with `after_commit` runs once the commit has succeeded, and is dropped otherwise;
    work queued with `on_rollback` runs only if it does not commit."""
    async with factory() as session:
        try:
            async with session.begin():
                yield session
        except BaseException:
            # Rolled back, or the commit failed: undo what was done outside on this transaction's behalf.
            await _run(session.info.pop("on_rollback", []), "undo after a rollback failed")
            raise
        await run_after_commit(session)


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the handler returns, rolled back when it raises,
    so a refusal writes nothing. A handler marked `opt={READS_ONE_SNAPSHOT: True}` gets an
    autocommit session instead."""
    if request.route_handler.opt.get(READS_ONE_SNAPSHOT):
        async with state.read_session_factory() as session:
            yield session
        return
    async with unit_of_work(state.session_factory) as session:
        yield session
