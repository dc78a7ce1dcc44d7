"""Live leaderboards in Redis sorted sets: one per tenant, period and org unit, holding every member
of the unit's subtree with earned points in the period. Rebuildable from PostgreSQL at any time."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.leaderboards.periods import ancestors, board_key, boards_of, ready_key
from points_service.ledger.service import EarnedChange

logger = logging.getLogger(__name__)


async def publish_standings(redis: Redis, tenant_id: uuid.UUID, changes: list[EarnedChange]) -> None:
    """Write the current totals (not increments) of the changed members on every board they stand on.

    Absolute scores make a late or repeated write harmless and let a rebuild and live updates
    overlap without losing points: whatever lands last is a total that was true when it was read.
    The ledger reads the totals in the transaction that changed them, so nothing is read here.
    """
    async with redis.pipeline(transaction=False) as pipe:
        for change in changes:
            months = change.earned_by_month
            month = change.month
            totals = {
                "month": months.get(month, 0),
                "year": sum(points for m, points in months.items() if m.year == month.year),
                "all": sum(months.values()),
            }
            for board in boards_of(month):
                for unit_id in ancestors(change.unit_path):
                    key = board_key(tenant_id, board, unit_id)
                    if totals[board.period]:
                        pipe.zadd(key, {str(change.member_id): totals[board.period]})
                    else:
                        # No earned points in the period (say, after a reversal): off the board.
                        pipe.zrem(key, str(change.member_id))
        await pipe.execute()


async def is_ready(redis: Redis, tenant_id: uuid.UUID) -> bool:
    return bool(await redis.exists(ready_key(tenant_id)))


async def rebuild(session: AsyncSession, redis: Redis, tenant_id: uuid.UUID) -> int:
    """Recompute every board of a tenant from `member_earned_monthly` and swap them in.

    Boards are written under temporary names and renamed into place, so readers never see half a
    board. Live updates write absolute totals, so one landing during a rebuild is not lost.
    """
    rows = await session.stream(
        text(
            """SELECT e.member_id, e.month, e.earned, u.path
                 FROM member_earned_monthly e
                 JOIN members m ON m.tenant_id = e.tenant_id AND m.id = e.member_id
                 JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                WHERE e.tenant_id = :tenant AND e.earned <> 0"""
        ),
        {"tenant": tenant_id},
    )
    boards: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    async for member_id, month, earned, path in rows:
        for board in boards_of(month):
            for unit_id in ancestors(path):
                boards[board_key(tenant_id, board, unit_id)][str(member_id)] += earned
    old_keys = [key async for key in redis.scan_iter(match=f"lb:{{{tenant_id}}}:*", count=1000)]
    suffix = uuid.uuid4().hex[:8]
    async with redis.pipeline(transaction=False) as pipe:
        for key, scores in boards.items():
            kept = {member: score for member, score in scores.items() if score != 0}
            if kept:
                pipe.zadd(f"{key}:rebuild:{suffix}", kept)
        await pipe.execute()
    async with redis.pipeline(transaction=True) as pipe:
        stale = [key for key in old_keys if key not in boards and key != ready_key(tenant_id)]
        if stale:
            pipe.delete(*stale)
        for key, scores in boards.items():
            if any(score != 0 for score in scores.values()):
                pipe.rename(f"{key}:rebuild:{suffix}", key)
            else:
                pipe.delete(key)
        pipe.set(ready_key(tenant_id), "1")
        await pipe.execute()
    return len(boards)
