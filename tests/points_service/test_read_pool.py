"""The hot-read pool keeps the connections that answered at hand: more reads than connections all get
their answers, and a read cancelled or failed gives its connection back for the next."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from points_service.database.reads import ReadPool, create_read_pool
from tests.conftest import Services


async def test_more_reads_than_connections_all_get_their_answers(services: Services) -> None:
    pool = await create_read_pool(services.database_url, 2, "read-pool-test")
    try:
        answers = await asyncio.gather(*(pool.fetchval("SELECT $1::int FROM pg_sleep(0.01)", n) for n in range(40)))
        assert answers == list(range(40))
        assert pool.get_size() <= 2
    finally:
        await pool.close()


async def test_a_cancelled_or_failed_read_leaves_the_pool_usable(services: Services) -> None:
    pool = await create_read_pool(services.database_url, 1, "read-pool-test")
    try:
        slow = asyncio.create_task(pool.fetchval("SELECT pg_sleep(5)"))
        waiting = asyncio.create_task(pool.fetchval("SELECT 2"))
        await asyncio.sleep(0.2)
        waiting.cancel()
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        with pytest.raises(asyncio.CancelledError):
            await waiting
        with pytest.raises(asyncpg.PostgresError):
            await pool.fetchval("SELECT 1 / 0")
        assert await asyncio.wait_for(pool.fetchval("SELECT 3"), 10) == 3
        assert await pool.fetchrow("SELECT 4 AS four") == (4,)
    finally:
        await pool.close()


async def test_reads_go_on_after_the_server_drops_the_kept_connections(services: Services) -> None:
    pool = await create_read_pool(services.database_url, 2, "read-pool-dropped")
    dsn = services.database_url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        assert await asyncio.gather(*(pool.fetchval("SELECT $1::int FROM pg_sleep(0.05)", n) for n in range(4))) == [
            0,
            1,
            2,
            3,
        ]
        admin = await asyncpg.connect(dsn)
        try:
            dropped = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                "read-pool-dropped",
            )
        finally:
            await admin.close()
        assert dropped == 2
        await asyncio.sleep(0.2)  # the loop reads the closed sockets
        assert [await pool.fetchval("SELECT $1::int", n) for n in range(5)] == [0, 1, 2, 3, 4]
    finally:
        await pool.close()


async def seconds_to_close(pool: ReadPool, timeout_seconds: float) -> float:
    started = asyncio.get_running_loop().time()
    await pool.close(timeout_seconds=timeout_seconds)
    return asyncio.get_running_loop().time() - started


async def test_closing_while_a_read_runs_ends_within_its_deadline(services: Services) -> None:
    """A worker told to stop while a long read holds a connection stops anyway (asyncpg's own close
    would wait for that read without a deadline)."""
    pool = await create_read_pool(services.database_url, 1, "read-pool-closing")
    slow = asyncio.create_task(pool.fetchval("SELECT pg_sleep(30)"))
    await asyncio.sleep(0.3)

    closed_after = await seconds_to_close(pool, 0.5)

    assert closed_after < 5, closed_after
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
        await asyncio.wait_for(slow, 5)


async def test_closing_waits_for_a_short_read_and_then_ends(services: Services) -> None:
    """A read that ends while the pool closes hands its connection back rather than keeping it: asyncpg's
    close waited for that kept connection for ever, and the stopping worker with it."""
    pool = await create_read_pool(services.database_url, 1, "read-pool-closing")
    short = asyncio.create_task(pool.fetchval("SELECT 7 FROM pg_sleep(0.5)"))
    await asyncio.sleep(0.2)

    closed_after = await seconds_to_close(pool, 20)

    assert await short == 7
    assert closed_after < 5, closed_after
