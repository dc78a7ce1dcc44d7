"""One-statement reads on the hottest paths, straight on asyncpg.

A SQLAlchemy session around a read that PostgreSQL answers in a fraction of a millisecond costs more
CPU than the read itself (about 0.3 ms against 0.2 ms, measured in process): creating the session,
checking a connection out through the pool's events, wrapping the result. For a read of one
statement none of that buys anything, so these few reads take a connection from an asyncpg pool of
their own. Everything that writes, or reads more than once, goes through the session as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

# A stopping worker's reads end within this, or their connections are cut.
CLOSE_TIMEOUT_SECONDS = 10.0


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    on every release: a second round trip per read, about a sixth of a balance read's CPU. The reads on
    this pool take no advisory locks, open no cursors, listen to nothing and set nothing; asyncpg still
    rolls back a transaction left open before it calls this."""


def _usable(connection: asyncpg.Connection) -> bool:
    try:
        return not connection.is_closed()
    except asyncpg.InterfaceError:
        # Already back in asyncpg's pool: it takes a connection back itself when the server closes it
        # (a restart, pg_terminate_backend). Giving it back again does nothing.
        return False


class ReadPool:
    """asyncpg's pool, with the connections that answered their last read kept at hand. asyncpg's
    release shields itself in a task of its own and arms an inactivity timer, and its acquire goes
    through a timeout: for a read of a fraction of a millisecond that was about a seventh of a
    balance read's CPU. A read here takes a kept connection when there is one (no await), and a
    connection that read without error is kept again, or handed to a read waiting for one. Any error
    or cancellation hands the connection back to asyncpg's release, which rolls back, resets or
    closes it as it always does. At most the pool's size of connections is taken from asyncpg."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._size = pool.get_max_size()
        # Taken from asyncpg: reading now or kept.
        self._taken = 0
        self._kept: list[asyncpg.Connection] = []
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._closing = False

    async def _connection(self) -> asyncpg.Connection:
        while True:
            while self._kept:
                connection = self._kept.pop()
                if _usable(connection):
                    return connection
                await self._give_back(connection)
            if self._taken < self._size:
                self._taken += 1
                try:
                    return await self._pool.acquire()
                except BaseException:
                    self._taken -= 1
                    self._wake_one()
                    raise
            woken = asyncio.get_running_loop().create_future()
            self._waiting.append(woken)
            try:
                await woken
            except asyncio.CancelledError:
                if woken.done() and not woken.cancelled():
                    self._wake_one()  # the wake-up this read no longer needs goes to the next one
                raise
            # Woken: a connection was kept or given back; a newcomer may have taken it first, then
            # this read waits again, and that newcomer wakes the next when it is done.

    def _wake_one(self) -> None:
        while self._waiting:
            woken = self._waiting.popleft()
            if not woken.done():
                woken.set_result(None)
                return

    async def _give_back(self, connection: asyncpg.Connection) -> None:
        self._taken -= 1
        try:
            await self._pool.release(connection)
        finally:
            self._wake_one()

    async def _read(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        connection = await self._connection()
        try:
            answer = await getattr(connection, method)(query, *args)
        except BaseException:
            await self._give_back(connection)
            raise
        if self._closing:
            # asyncpg's close waits for every connection it lent; one kept here would never return.
            await self._give_back(connection)
            return answer
        self._kept.append(connection)
        self._wake_one()
        return answer

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self._read("fetch", query, args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self._read("fetchrow", query, args)  # type: ignore[no-any-return]

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._read("fetchval", query, args)

    def get_max_size(self) -> int:
        return self._pool.get_max_size()

    def get_size(self) -> int:
        return self._pool.get_size()

    def get_idle_size(self) -> int:
        return self._pool.get_idle_size() + len(self._kept)

    async def close(self, timeout_seconds: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Closes gracefully, then by force: asyncpg's close waits for every connection without a
        deadline, and a worker once hung in its shutdown minutes after it was told to stop."""
        self._closing = True
        try:
            async with asyncio.timeout(timeout_seconds):
                while self._kept:
                    await self._give_back(self._kept.pop())
                await self._pool.close()
        except TimeoutError:
            logger.warning("read pool: connections still busy after %s s; closed by force", timeout_seconds)
            self._pool.terminate()


async def create_read_pool(database_url: str, size: int, application_name: str) -> ReadPool:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(
        dsn,
        # None at start: the service starts (and answers /health/ready 503) while the database is down.
        min_size=0,
        max_size=size,
        server_settings={"application_name": application_name},
        # Hot reads never sit in a transaction: a dropped connection is replaced on the next use.
        max_inactive_connection_lifetime=300,
        reset=_nothing_to_reset,
    )
    return ReadPool(pool)
