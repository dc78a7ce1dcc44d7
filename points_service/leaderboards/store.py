"""Live leaderboards in Redis sorted sets: one per tenant, period and org unit, holding every member
of the unit's subtree with earned points in the period. Rebuildable from PostgreSQL at any time."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import date

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.leaderboards.periods import PERIODS, ancestors, board_key, boards_of, ready_key

logger = logging.getLogger(__name__)


async def publish_standings(
    session: AsyncSession, redis: Redis, tenant_id: uuid.UUID, touched: list[tuple[uuid.UUID, str, date]]
) -> None:
    """Write the current totals (not increments) of the touched members on every board they stand on.

    Absolute scores make a late or repeated write harmless and let a rebuild and live updates
    overlap without losing points: whatever lands last is a total that was true when it was read.
    """
    member_ids = list({member_id for member_id, _, _ in touched})
    earned: dict[uuid.UUID, dict[date, int]] = defaultdict(dict)
    for member_id, month, points in await session.execute(
        text(
            "SELECT member_id, month, earned FROM member_earned_monthly "
            "WHERE tenant_id = :tenant AND member_id = ANY(:members)"
        ),
        {"tenant": tenant_id, "members": member_ids},
    ):
        earned[member_id][month] = int(points)
    async with redis.pipeline(transaction=False) as pipe:
        for member_id, path, month in touched:
            months = earned.get(member_id, {})
            totals = {
                "month": months.get(month, 0),
                "year": sum(points for m, points in months.items() if m.year == month.year),
                "all": sum(months.values()),
            }
            for board in boards_of(month):
                for unit_id in ancestors(path):
                    key = board_key(tenant_id, board, unit_id)
                    if totals[board.period]:
                        pipe.zadd(key, {str(member_id): totals[board.period]})
                    else:
                        # No earned points in the period (say, after a reversal): off the board.
                        pipe.zrem(key, str(member_id))
        await pipe.execute()


async def is_ready(redis: Redis, tenant_id: uuid.UUID) -> bool:
    return bool(await redis.exists(ready_key(tenant_id)))


async def rebuild(session: AsyncSession, redis: Redis, tenant_id: uuid.UUID) -> int:
    """Recompute every board of a tenant from `member_earned_monthly` and swap them in.

    PostgreSQL sums each member's points per month, year and all time (one row per member and
    board period, not per ledger line); those rows are streamed into Redis in pipelined batches as
    each unit's own members. A unit's board holds its whole subtree, so it is then the union of its
    own members and its children's boards, built bottom-up by ZUNIONSTORE inside Redis: a member
    crosses the network once, not once per ancestor. A member stands in exactly one unit, so the
    union never adds two scores of one member.

    Boards are written under temporary names and renamed into place in one MULTI/EXEC, so readers
    never see half a board. Live updates write absolute totals, so one landing during a rebuild is
    not lost.
    """
    suffix = uuid.uuid4().hex[:8]
    prefix = f"lb:{{{tenant_id}}}:"
    units = {
        str(unit_id): (str(parent_id) if parent_id else None, path.count("/"))
        for unit_id, parent_id, path in await session.execute(
            text("SELECT id, parent_id, path FROM org_units WHERE tenant_id = :tenant"), {"tenant": tenant_id}
        )
    }
    # (period, at) -> units with members of their own on that board
    own: dict[tuple[str, str], set[str]] = defaultdict(set)
    rows = await session.stream(
        text(
            """WITH earned AS (
                   SELECT e.member_id::text AS member, m.org_unit_id::text AS unit, e.month, e.earned
                     FROM member_earned_monthly e
                     JOIN members m ON m.tenant_id = e.tenant_id AND m.id = e.member_id
                    WHERE e.tenant_id = :tenant AND e.earned <> 0)
               SELECT 'month' AS period, to_char(month, 'YYYY-MM') AS at, unit, member, earned AS points
                 FROM earned
               UNION ALL
               SELECT 'year', to_char(month, 'YYYY'), unit, member, sum(earned) FROM earned
                GROUP BY 2, 3, 4 HAVING sum(earned) <> 0
               UNION ALL
               SELECT 'all', 'all', unit, member, sum(earned) FROM earned
                GROUP BY 3, 4 HAVING sum(earned) <> 0
                ORDER BY 1, 2, 3"""
        ),
        {"tenant": tenant_id},
        execution_options={"yield_per": REBUILD_BATCH},
    )
    async with redis.pipeline(transaction=False) as pipe:
        batch: dict[str, int] = {}
        current: tuple[str, str, str] | None = None
        async for partition in rows.partitions():
            for period, at, unit, member, points in partition:
                if (period, at, unit) != current:
                    if batch and current is not None:
                        pipe.zadd(_own_key(prefix, current, suffix), batch)
                    batch = {}
                    current = (period, at, unit)
                    own[(period, at)].add(unit)
                batch[member] = int(points)
            if batch and current is not None:
                pipe.zadd(_own_key(prefix, current, suffix), batch)
                batch = {}
            await pipe.execute()
    boards = []
    async with redis.pipeline(transaction=False) as pipe:
        own_keys = [
            _own_key(prefix, (period, at, unit), suffix) for (period, at), found in own.items() for unit in found
        ]
        for (period, at), found in own.items():
            built = _subtrees(units, found)
            # Deepest units first, so each child's board exists when its parent's is summed.
            for unit in sorted(built, key=lambda unit: -units[unit][1]):
                sources = [_own_key(prefix, (period, at, unit), suffix)] if unit in found else []
                sources += [f"{prefix}{period}:{at}:{child}:rebuild:{suffix}" for child in built[unit]]
                pipe.zunionstore(f"{prefix}{period}:{at}:{unit}:rebuild:{suffix}", sources, aggregate="SUM")
                boards.append(f"{prefix}{period}:{at}:{unit}")
            if len(pipe) >= REBUILD_BATCH:
                await pipe.execute()
        for first in range(0, len(own_keys), REBUILD_BATCH):
            pipe.unlink(*own_keys[first : first + REBUILD_BATCH])
        await pipe.execute()
    new_keys = set(boards)
    stale = [
        key
        async for key in redis.scan_iter(match=f"{prefix}*", count=1000)
        if key not in new_keys and ":rebuild:" not in key and key.split(":")[2] in PERIODS
    ]
    async with redis.pipeline(transaction=True) as pipe:
        if stale:
            pipe.delete(*stale)
        for key in boards:
            pipe.rename(f"{key}:rebuild:{suffix}", key)
        pipe.set(ready_key(tenant_id), "1")
        await pipe.execute()
    return len(boards)


REBUILD_BATCH = 10_000


def _own_key(prefix: str, board: tuple[str, str, str], suffix: str) -> str:
    period, at, unit = board
    return f"{prefix}own:{period}:{at}:{unit}:rebuild:{suffix}"


def _subtrees(units: dict[str, tuple[str | None, int]], found: set[str]) -> dict[str, set[str]]:
    """Every unit on the path from a unit in `found` to its root, with its children that are too."""
    children: dict[str, set[str]] = {}
    for unit in found:
        child = None
        while unit is not None:
            known = unit in children
            kids = children.setdefault(unit, set())
            if child is not None:
                kids.add(child)
            if known:
                break
            child, unit = unit, units[unit][0]
    return children
