"""What every request can reach (`state`), declared once with its types and opened once per process.

A handler or provider that declares `state: AppState` gets these attributes typed. A plugin that adds
its own (a batcher, say) declares them on a subclass of `AppState` and sets them in its lifespan.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.datastructures import State
from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from points_service.auth.revocation import AccountStates
from points_service.auth.tokens import AccessTokens
from points_service.database.reads import ReadPool, create_read_pool
from points_service.database.session import create_engine, read_session_factory, session_factory
from points_service.redis_pool import LIMITS_TIMEOUT_SECONDS, REQUEST_TIMEOUT_SECONDS, CircuitBreaker, create_redis
from points_service.settings import Settings
from points_service.tenancy.periods import TenantClock

# Connections per process for one-statement hot reads (a balance): each is held for one round trip.
READ_POOL_SIZE = 4


class AppState(State):
    """The application's doors to PostgreSQL and Redis, its settings and its per-process caches.

    Annotations only: `State` keeps the values in its mapping, so plain `State` users see the same ones.
    """

    settings: Settings
    engine: AsyncEngine
    # The request pool: one session and transaction per request.
    session_factory: async_sessionmaker[AsyncSession]
    # Autocommit sessions for handlers that read in one statement.
    read_session_factory: async_sessionmaker[AsyncSession]
    # asyncpg's own pool (kept connections at hand) for one-statement hot reads, without a session.
    read_pool: ReadPool
    # Work that commits on its own while a request's transaction is open (an expiry, a revoked token).
    side_session_factory: async_sessionmaker[AsyncSession]
    # Single statements that commit on their own without waiting for the WAL flush (a reward's stock).
    stock_session_factory: async_sessionmaker[AsyncSession]
    # Per request: short timeouts and a circuit breaker (redis_pool.py). Background work opens a client
    # of its own.
    redis: Redis
    # Failure limits' counters: a longer deadline and a breaker of their own, so slow board reads
    # cannot make the limits fall back to per-process counting (redis_pool.py).
    limits_redis: Redis
    access_tokens: AccessTokens
    # Whether the account behind a token still stands (auth/revocation.py), remembered a few seconds.
    account_states: AccountStates
    # The job queue (points_service/jobs/), opened by the app's `jobs` lifespan, for pages that hand
    # long work to the worker.
    job_queue: Queue
    # A tenant's time zone never changes once created, so each process reads it once.
    tenant_clocks: dict[uuid.UUID, TenantClock]


@asynccontextmanager
async def opened_state(state: State, settings: Settings) -> AsyncIterator[AppState]:
    """Opens every pool into `state` for the life of the process and closes them at the end."""
    database_url = settings.database_url or ""
    engine = create_engine(database_url, settings.database_pool_size, settings.database_application_name)
    # Work that must commit on its own while a request's transaction is still open (an expiry
    # the 409 after it must not undo, a revoked token family) takes its connection from a pool of
    # its own: borrowing from the request pool could starve it when every request waits for one.
    side_engine = create_engine(database_url, 4, settings.database_application_name)
    # Single statements committed on their own: a reward's stock (`RewardStock`, merchants/redemptions/stock.py).
    # Their commits need not wait for the disk: a redemption commits after its stock was taken, so
    # its commit record follows the stock's in the WAL, and flushing it flushes the stock's too.
    # A crash can lose only a stock change no redemption committed after: a take (as if never
    # taken) or a give-back (the reward left short, never oversold).
    stock_engine = create_engine(
        database_url, 2, settings.database_application_name, autocommit=True, wait_for_wal_flush=False
    )
    read_pool = await create_read_pool(database_url, READ_POOL_SIZE, settings.database_application_name)
    redis = create_redis(settings.redis_url or "", REQUEST_TIMEOUT_SECONDS, breaker=CircuitBreaker())
    limits_redis = create_redis(settings.redis_url or "", LIMITS_TIMEOUT_SECONDS, breaker=CircuitBreaker())
    state.update(
        settings=settings,
        engine=engine,
        session_factory=session_factory(engine),
        read_session_factory=read_session_factory(engine),
        read_pool=read_pool,
        side_session_factory=session_factory(side_engine),
        stock_session_factory=session_factory(stock_engine),
        redis=redis,
        limits_redis=limits_redis,
        access_tokens=AccessTokens(
            settings.jwt_secret or "", settings.jwt_issuer, settings.jwt_audience, settings.access_token_seconds
        ),
        account_states=AccountStates(read_pool),
        tenant_clocks={},
    )
    try:
        yield AppState(state)
    finally:
        await redis.aclose()
        await limits_redis.aclose()
        await engine.dispose()
        await read_pool.close()
        await side_engine.dispose()
        await stock_engine.dispose()
