"""Live leaderboards in Redis sorted sets: one per tenant, period and org unit, holding every member
of the unit's subtree with earned points in the period. Rebuildable from PostgreSQL at any time."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import NoScriptError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.leaderboards import stamps
from points_service.leaderboards.periods import PERIODS, ancestors, applied_key, board_key, boards_of, ready_key
from points_service.ledger.service import EarnedChange

logger = logging.getLogger(__name__)


async def publish_standings(
    redis: Redis, tenant_id: uuid.UUID, changes: list[EarnedChange]
) -> tuple[str | bytes, int] | None:
    """Write the current totals (not increments) of the changed members on every board they stand on;
    the boards' ready flag and the count of changes applied since they were built (None: not built).

    Absolute scores make a late or repeated write harmless and let a rebuild and live updates
    overlap without losing points: whatever lands last is a total that was true when it was read.
    The ledger reads the totals in the transaction that changed them, so nothing is read here.
    """
    # One ZADD (and at most one ZREM) per board, naming every member of the batch on it: the members of
    # a group-commit batch share their unit's and its ancestors' boards, and each command costs
    # redis-py more to build than Redis to run. The last total for a member on a board wins, as it
    # would written one command at a time.
    scores: dict[str, dict[str, int]] = {}
    for change in changes:
        months = change.earned_by_month
        month = change.month
        totals = {
            "month": months.get(month, 0),
            "year": sum(points for m, points in months.items() if m.year == month.year),
            "all": sum(months.values()),
        }
        member = str(change.member_id)
        units = ancestors(change.unit_path)
        for board in boards_of(month):
            for unit_id in units:
                scores.setdefault(board_key(tenant_id, board, unit_id), {})[member] = totals[board.period]
    async with redis.pipeline(transaction=False) as pipe:
        for key, on_board in scores.items():
            standing = {member: total for member, total in on_board.items() if total}
            if standing:
                pipe.zadd(key, standing)
            # No earned points in the period (say, after a reversal): off the board.
            gone = [member for member, total in on_board.items() if not total]
            if gone:
                pipe.zrem(key, *gone)
        pipe.eval(STAMP_SCRIPT, 2, ready_key(tenant_id), applied_key(tenant_id))
        answers = await pipe.execute()
    stamp = answers[-1]
    return (stamp[0], int(stamp[1])) if stamp else None


# KEYS: the ready flag, the applied counter. Counted only while the boards are built (the rebuild's
# swap sets it to 0 with the new flag).
STAMP_SCRIPT = """
local ready = redis.call('GET', KEYS[1])
if not ready then return false end
return {ready, redis.call('INCR', KEYS[2])}
"""


async def generation_of(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """PostgreSQL's generation of the tenant's boards: 0 before the first recorded build."""
    found = await session.scalar(
        text("SELECT generation FROM leaderboard_generations WHERE tenant_id = :tenant"), {"tenant": tenant_id}
    )
    return int(found or 0)


async def outdate_all_boards(session: AsyncSession) -> None:
    """Make every board in Redis older than PostgreSQL's generation, so each process's upkeep rebuilds
    them: after a restore the boards describe a ledger that is no longer there."""
    await session.execute(
        text(
            f"""INSERT INTO leaderboard_generations (tenant_id, generation)
                SELECT id, {_CLOCK} FROM tenants
                ON CONFLICT (tenant_id) DO UPDATE SET generation = excluded.generation"""  # noqa: S608 - a constant
        )
    )


# PostgreSQL's clock in microseconds: one clock for every process, and it only moves on across
# restores of the database (a sequence would be restored to an older value with the rest).
_CLOCK = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"


async def rebuild(session: AsyncSession, redis: Redis, tenant_id: uuid.UUID) -> int:
    patient = _patient(redis)
    try:
        return await _rebuild(session, patient, tenant_id)
    finally:
        await patient.aclose()


def _patient(redis: Redis) -> Redis:
    """A client of the same server without the short timeout of the request path: the scripts of a
    large rebuild may run for longer than a request is allowed to wait."""
    pool = redis.connection_pool
    kept = ("host", "port", "db", "username", "password", "path", "decode_responses", "encoding", "encoding_errors")
    settings = {
        name: value
        for name, value in pool.connection_kwargs.items()
        if name in kept or name.startswith("ssl") or name == "socket_connect_timeout"
    }
    return Redis.from_pool(
        ConnectionPool(connection_class=pool.connection_class, socket_timeout=REBUILD_TIMEOUT_SECONDS, **settings)
    )


async def _rebuild(session: AsyncSession, redis: Redis, tenant_id: uuid.UUID) -> int:
    """Recompute every board of a tenant from `member_earned_monthly` and swap them in.

    PostgreSQL sums each member's points per month, year and all time (one row per member and
    board period, not per ledger line); those rows are streamed into Redis in batches, one script
    call each, as each unit's own members. A unit's board holds its whole subtree, so it is then the union of its
    own members and its children's boards, built bottom-up by ZUNIONSTORE inside Redis: a member
    crosses the network once, not once per ancestor. A member stands in exactly one unit, so the
    union never adds two scores of one member.

    Boards are written under temporary names and renamed into place by one script (atomic, as
    MULTI/EXEC is), so readers never see half a board. Live updates write absolute totals, so one
    landing during a rebuild is not lost.
    """
    suffix = uuid.uuid4().hex[:8]
    prefix = f"lb:{{{tenant_id}}}:"
    # Taken before the ledger is read: changes published from now on count against this build.
    generation = int(await session.scalar(text(f"SELECT {_CLOCK}")) or 0)
    units = {
        str(unit_id): (str(parent_id) if parent_id else None, path.count("/"))
        for unit_id, parent_id, path in await session.execute(
            text("SELECT id, parent_id, path FROM org_units WHERE tenant_id = :tenant"), {"tenant": tenant_id}
        )
    }
    # Read before any temporary board exists, so the scan walks only the boards there are.
    old_boards = [
        key
        async for key in redis.scan_iter(match=f"{prefix}*", count=1000)
        if ":rebuild:" not in key and key.split(":")[2] in PERIODS
    ]
    # (period, at) -> units with members of their own on that board -> how many
    own: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = await session.stream(
        text(
            """WITH earned AS (
                   SELECT e.member_id::text AS member, m.org_unit_id::text AS unit, e.month, e.earned
                     FROM member_earned_monthly e
                     JOIN members m ON m.tenant_id = e.tenant_id AND m.id = e.member_id
                    WHERE e.tenant_id = :tenant AND e.earned <> 0 AND m.active)
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
    async for partition in rows.partitions():
        # One script call per batch of rows: per-board ZADDs would cost a command each.
        keys: list[str] = []
        arguments: list[int | str] = []
        count_at = 0
        current: tuple[str, str, str] | None = None
        for period, at, unit, member, points in partition:
            if (period, at, unit) != current:
                current = (period, at, unit)
                keys.append(_own_key(prefix, current, suffix))
                count_at = len(arguments)
                arguments.append(0)
            arguments[count_at] = int(arguments[count_at]) + 1
            arguments += (int(points), member)
            own[(period, at)][unit] += 1
        await _script(redis, LOAD_SCRIPT, keys, arguments)
    boards = []
    for (period, at), found in own.items():
        built = _subtrees(units, set(found))
        # Deepest units first, so each child's board exists when its parent's is summed: each step is
        # the destination, then its sources (its own members, its children's boards). Steps go in
        # script calls of bounded work, so no call holds Redis for long.
        size: dict[str, int] = {}
        steps: list[list[str]] = []
        work = 0
        for unit in sorted(built, key=lambda unit: -units[unit][1]):
            size[unit] = found.get(unit, 0) + sum(size[child] for child in built[unit])
            sources = [_own_key(prefix, (period, at, unit), suffix)] if unit in found else []
            sources += [f"{prefix}{period}:{at}:{child}:rebuild:{suffix}" for child in built[unit]]
            steps.append([f"{prefix}{period}:{at}:{unit}:rebuild:{suffix}", *sources])
            boards.append(f"{prefix}{period}:{at}:{unit}")
            work += size[unit]
            if work >= UNION_WORK:
                await _union(redis, steps)
                steps, work = [], 0
        await _union(redis, steps)
        own_keys = [_own_key(prefix, (period, at, unit), suffix) for unit in found]
        for first in range(0, len(own_keys), REBUILD_BATCH):
            await redis.unlink(*own_keys[first : first + REBUILD_BATCH])
    new_keys = set(boards)
    stale = [key for key in old_boards if key not in new_keys]
    # A script runs atomically, as MULTI/EXEC would: no reader sees some boards swapped and others
    # not. Every step in it is O(1): UNLINK frees a replaced board in the background.
    run_id = str((await redis.info("server")).get("run_id", ""))
    await _script(
        redis,
        SWAP_SCRIPT,
        [
            *stale,
            *(name for key in boards for name in (f"{key}:rebuild:{suffix}", key)),
            ready_key(tenant_id),
            applied_key(tenant_id),
        ],
        [len(stale), stamps.ready_value(generation, run_id)],
    )
    # Recorded once the boards are in place (committed by the caller): a process that compares in
    # between sees boards newer than PostgreSQL's generation, which it believes.
    await session.execute(
        text(
            """INSERT INTO leaderboard_generations (tenant_id, generation) VALUES (:tenant, :generation)
               ON CONFLICT (tenant_id) DO UPDATE
               SET generation = greatest(leaderboard_generations.generation, excluded.generation)"""
        ),
        {"tenant": tenant_id, "generation": generation},
    )
    stamps.distrust(tenant_id)
    stamps.trust(tenant_id, generation)
    return len(boards)


REBUILD_BATCH = 10_000
REBUILD_TIMEOUT_SECONDS = 60
# Members summed per union script call (a few milliseconds of Redis time).
UNION_WORK = 50_000


async def _union(redis: Redis, steps: list[list[str]]) -> None:
    if steps:
        await _script(redis, UNION_SCRIPT, [key for step in steps for key in step], [len(step) - 1 for step in steps])


# Temporary sets expire after an hour (3600 s in the scripts), so a rebuild that died half-way leaves
# nothing behind for long; a board loses the expiry when it is renamed into place.
# KEYS: sets to add to; ARGV: for each, how many members, then score and member of each.
LOAD_SCRIPT = """
local a = 1
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  a = a + 1
  for first = 0, n - 1, 1000 do
    local last = math.min(n, first + 1000) - 1
    redis.call('ZADD', KEYS[k], unpack(ARGV, a + 2 * first, a + 2 * last + 1))
  end
  redis.call('EXPIRE', KEYS[k], 3600)
  a = a + 2 * n
end
return #KEYS
"""
# KEYS: for each step its destination and its sources; ARGV: the number of sources of each step.
UNION_SCRIPT = """
local k = 1
for i = 1, #ARGV do
  local n = tonumber(ARGV[i])
  redis.call('ZUNIONSTORE', KEYS[k], n, unpack(KEYS, k + 1, k + n))
  redis.call('EXPIRE', KEYS[k], 3600)
  k = k + n + 1
end
return #ARGV
"""
# KEYS: the stale boards to delete, then (temporary name, board) pairs, then the ready flag and the
# applied counter; ARGV: how many stale boards there are, the ready flag's value (leaderboards/stamps.py).
SWAP_SCRIPT = """
local stale = tonumber(ARGV[1])
for i = 1, stale do redis.call('UNLINK', KEYS[i]) end
for i = stale + 1, #KEYS - 2, 2 do
  redis.call('UNLINK', KEYS[i + 1])
  redis.call('RENAME', KEYS[i], KEYS[i + 1])
  redis.call('PERSIST', KEYS[i + 1])
end
redis.call('SET', KEYS[#KEYS - 1], ARGV[2])
redis.call('SET', KEYS[#KEYS], '0')
return (#KEYS - 2 - stale) / 2
"""


async def _script(redis: Redis, script: str, keys: list[str], arguments: list[int | str]) -> object:
    sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
    try:
        return await redis.evalsha(sha, len(keys), *keys, *arguments)
    except NoScriptError:
        return await redis.eval(script, len(keys), *keys, *arguments)


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
