"""Keeping Redis boards trustworthy: a board missed an update while Redis was away -> it is dropped
(readers fall back to PostgreSQL) and rebuilt; boards older than PostgreSQL's generation, or built on a
Redis that has restarted since, are dropped and rebuilt (leaderboards/stamps.py); a tenant whose boards
were never built gets them built."""

from __future__ import annotations

import asyncio
import logging
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.leaderboards import stamps
from points_service.leaderboards.member_views import MEMBER_VIEWS
from points_service.leaderboards.models import LeaderboardGeneration
from points_service.leaderboards.periods import ready_key, rebuild_lock_key
from points_service.leaderboards.store import publish_standings, rebuild
from points_service.ledger.service import EarnedChange
from points_service.observability.metrics import count_redis_fallback
from points_service.tenancy.models import Tenant

logger = logging.getLogger(__name__)
UPKEEP_EVERY_SECONDS = 30
# Longer than any rebuild takes; a process that died mid-rebuild holds the lock no longer than this.
REBUILD_LOCK_SECONDS = 600

# Tenants whose boards missed an update in this process; readers here skip Redis for them.
STALE_TENANTS: set[uuid.UUID] = set()


async def publish_or_mark_stale(redis: Redis, tenant_id: uuid.UUID, changes: list[EarnedChange]) -> None:
    before = stamps.floor(tenant_id)
    try:
        stamp = await publish_standings(redis, tenant_id, changes)
    except (RedisError, OSError):
        STALE_TENANTS.add(tenant_id)
        count_redis_fallback("leaderboard_update")
        logger.warning("leaderboards: Redis unavailable; boards of tenant %s will be rebuilt", tenant_id)
        return
    if stamp is not None and stamps.judge(tenant_id, *stamp, before, incremented=True) is stamps.Belief.WENT_BACK:
        went_back(tenant_id)


def went_back(tenant_id: uuid.UUID) -> None:
    """Redis answered with boards older than it showed before (restored from an older snapshot)."""
    STALE_TENANTS.add(tenant_id)
    stamps.distrust(tenant_id)
    logger.warning("leaderboards: Redis holds older boards of tenant %s than before; rebuilding them", tenant_id)


async def keep_boards(redis: Redis, sessions: async_sessionmaker[AsyncSession], only: uuid.UUID | None = None) -> None:
    """One pass over every tenant (or `only` that one)."""
    dropped = {tenant_id for tenant_id in STALE_TENANTS if only in (None, tenant_id)}
    for tenant_id in dropped:
        await redis.delete(ready_key(tenant_id))
        STALE_TENANTS.discard(tenant_id)
    async with sessions() as session:
        tenants = [only] if only else list(await session.scalars(select(Tenant.id)))
        rows = await session.execute(select(LeaderboardGeneration.tenant_id, LeaderboardGeneration.generation))
        generations = {tenant_id: generation for tenant_id, generation in rows}
    run_id = str((await redis.info("server")).get("run_id", ""))
    for tenant_id in tenants:
        ready = await redis.get(ready_key(tenant_id))
        if ready is not None:
            generation, built_on = stamps.parse_ready(ready)
            if built_on == run_id and generation >= generations.get(tenant_id, 0):
                stamps.trust(tenant_id, generation)
                continue
            # Built on a Redis that restarted since (it may have lost writes after its last save), or
            # older than PostgreSQL's generation (a restored snapshot, or a restored database): every
            # process reads from PostgreSQL until the rebuild below swaps new boards in.
            logger.warning("leaderboards: boards of tenant %s are not current; rebuilding them", tenant_id)
            stamps.distrust(tenant_id)
            await redis.delete(ready_key(tenant_id))
        # Every worker process runs this loop: one of them rebuilds a tenant, the others read from
        # PostgreSQL meanwhile instead of doing the same work on the same cores.
        lock = rebuild_lock_key(tenant_id)
        if not await redis.set(lock, "1", nx=True, ex=REBUILD_LOCK_SECONDS):
            if tenant_id in dropped:
                # The rebuild under way may have read the ledger before the update this process
                # missed: rebuild again once it is done.
                STALE_TENANTS.add(tenant_id)
            continue
        try:
            async with sessions() as session, session.begin():
                await rebuild(session, redis, tenant_id)
        finally:
            await redis.delete(lock)


async def keep_boards_forever(redis: Redis, sessions: async_sessionmaker[AsyncSession]) -> None:
    while True:
        try:
            await keep_boards(redis, sessions)
        except (RedisError, OSError, SQLAlchemyError):
            logger.warning("leaderboards: upkeep failed; retrying in %s s", UPKEEP_EVERY_SECONDS)
        await asyncio.sleep(UPKEEP_EVERY_SECONDS)


async def drop_boards(redis: Redis, tenant_id: uuid.UUID) -> None:
    """Readers go to PostgreSQL until the upkeep has rebuilt the tenant's boards: for a change that
    moves a member across many boards at once (switched off, moved to another unit)."""
    MEMBER_VIEWS.forget(tenant_id)
    try:
        await redis.delete(ready_key(tenant_id))
    except (RedisError, OSError):
        STALE_TENANTS.add(tenant_id)
        count_redis_fallback("leaderboard_update")
        logger.warning("leaderboards: Redis unavailable; boards of tenant %s will be rebuilt", tenant_id)
