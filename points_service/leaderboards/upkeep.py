"""Keeping Redis boards trustworthy: a board missed an update while Redis was away -> it is dropped
(readers fall back to PostgreSQL) and rebuilt; a tenant whose boards were never built gets them built."""

from __future__ import annotations

import asyncio
import logging
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.leaderboards.periods import ready_key, rebuild_lock_key
from points_service.leaderboards.store import is_ready, publish_standings, rebuild
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
    try:
        await publish_standings(redis, tenant_id, changes)
    except (RedisError, OSError):
        STALE_TENANTS.add(tenant_id)
        count_redis_fallback("leaderboard_update")
        logger.warning("leaderboards: Redis unavailable; boards of tenant %s will be rebuilt", tenant_id)


async def keep_boards(redis: Redis, sessions: async_sessionmaker[AsyncSession]) -> None:
    dropped = set(STALE_TENANTS)
    for tenant_id in dropped:
        await redis.delete(ready_key(tenant_id))
        STALE_TENANTS.discard(tenant_id)
    async with sessions() as session:
        tenants = list(await session.scalars(select(Tenant.id)))
    for tenant_id in tenants:
        if await is_ready(redis, tenant_id):
            continue
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
            async with sessions() as session:
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
    try:
        await redis.delete(ready_key(tenant_id))
    except (RedisError, OSError):
        STALE_TENANTS.add(tenant_id)
        count_redis_fallback("leaderboard_update")
        logger.warning("leaderboards: Redis unavailable; boards of tenant %s will be rebuilt", tenant_id)
