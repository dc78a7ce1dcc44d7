"""Reading a leaderboard: Redis when its boards are built, PostgreSQL otherwise. Same answer either way:
members with earned points in the period within the subtree, equal points sharing a rank
(1, 2, 2, 4), ties ordered by member id."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.database.reads import ReadPool
from points_service.database.session import after_commit
from points_service.leaderboards import stamps
from points_service.leaderboards.member_views import MEMBER_VIEWS
from points_service.leaderboards.periods import Board, applied_key, board_key, ready_key
from points_service.leaderboards.upkeep import STALE_TENANTS, drop_boards, went_back
from points_service.observability.metrics import count_redis_fallback

logger = logging.getLogger(__name__)

# One round trip for a whole page: whether the tenant's boards are built, the head of the board one
# past `limit` (to see whether a tie crosses the border), the whole tie at the border only when it
# does, the caller's score with the count of members above it, and the boards' stamp (ready flag and
# applied counter, leaderboards/stamps.py). Lists come back as one space-separated string each, which
# the client parses far faster than an array of bulk strings.
# Every key carries the tenant's hash tag, so the script runs on one Redis Cluster shard.
TOP_SCRIPT = """
local ready = redis.call('GET', KEYS[1])
if not ready then return false end
local limit = tonumber(ARGV[1])
local head = redis.call('ZREVRANGE', KEYS[2], 0, limit, 'WITHSCORES')
local tied = {}
if #head > 2 * limit and head[2 * limit] == head[2 * limit + 2] then
  tied = redis.call('ZRANGEBYSCORE', KEYS[2], head[2 * limit], head[2 * limit])
end
local score, above = '', 0
if ARGV[2] ~= '' then
  local found = redis.call('ZSCORE', KEYS[2], ARGV[2])
  if found then score, above = found, redis.call('ZCOUNT', KEYS[2], '(' .. found, '+inf') end
end
return {table.concat(head, ' '), table.concat(tied, ' '), score, above, ready, redis.call('GET', KEYS[3]) or '0'}
"""
TOP_SCRIPT_SHA = hashlib.sha1(TOP_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1

MAX_CACHED_NAMES = 100_000
NAMES_SECONDS = 60


class Standing(NamedTuple):
    # A tuple, not a frozen dataclass: twenty of them per page, and a frozen dataclass sets each field
    # through object.__setattr__.
    rank: int
    member_id: uuid.UUID
    name: str
    points: int


# Per tenant: member id as Redis spells it -> (the id, the name). Keyed by the string so that a page
# read from Redis builds no UUID and hashes none for a member it has seen (a UUID's hash is Python code).
Named = tuple[uuid.UUID, str]


@dataclass
class MemberNames:
    """Names of members who stood on a page, per process: the cache saves the query that would otherwise
    follow every Redis read. Staff may rename a member, so the cache is emptied every NAMES_SECONDS."""

    names: dict[uuid.UUID, dict[str, Named]] = field(default_factory=dict)
    kept: int = 0
    emptied_at: float = field(default_factory=time.monotonic)

    async def of(self, session: Callable[[], AsyncSession], tenant_id: uuid.UUID, ids: list[str]) -> dict[str, Named]:
        """Each member id (as a string) with its UUID and name; an id no longer in the tenant has no name."""
        if time.monotonic() - self.emptied_at > NAMES_SECONDS:
            self.names.clear()
            self.kept = 0
            self.emptied_at = time.monotonic()
        known = self.names.get(tenant_id)
        if known is None:
            known = self.names[tenant_id] = {}
        missing = [member for member in ids if member not in known]
        if missing:
            if self.kept + len(missing) > MAX_CACHED_NAMES:
                self.names.clear()
                self.kept = 0
                known = self.names[tenant_id] = {}
            rows = await session().execute(
                text("SELECT id, name FROM members WHERE tenant_id = :tenant AND id = ANY(:ids)"),
                {"tenant": tenant_id, "ids": [uuid.UUID(member) for member in missing]},
            )
            for member, name in rows:
                known[str(member)] = (member, name)
            self.kept += len(missing)
        return {member: known.get(member) or (uuid.UUID(member), "") for member in ids}


class LeaderboardService:
    def __init__(
        self,
        session: AsyncSession | Callable[[], AsyncSession],
        redis: Redis,
        tenant_id: uuid.UUID,
        names: MemberNames | None = None,
    ) -> None:
        # A callable (database/session.py's SessionOnUse) is asked for the session only when a statement
        # runs: a read from Redis with known names runs none.
        self._open_session = session if callable(session) else lambda: session
        self._redis = redis
        self._tenant_id = tenant_id
        self._names = names or MemberNames()

    async def top(
        self, board: Board, unit_id: uuid.UUID, unit_path: str, limit: int, me: uuid.UUID | None
    ) -> tuple[list[Standing], Standing | None, str]:
        """The first `limit` standings, the caller's own standing, and where the answer came from."""
        if self._tenant_id not in STALE_TENANTS:
            try:
                found = await self._from_redis(board, unit_id, limit, me)
            except (RedisError, OSError):
                logger.warning("leaderboards: Redis unavailable, answering from PostgreSQL")
                count_redis_fallback("leaderboard_read")
            else:
                if found is not None:
                    top, mine = found
                    return await self._named(top), mine, "redis"
        top, mine = await self._from_database(board, unit_path, limit, me)
        return await self._named(top), mine, "database"

    async def _from_redis(
        self, board: Board, unit_id: uuid.UUID, limit: int, me: uuid.UUID | None
    ) -> tuple[list[tuple[int, str, int]], Standing | None] | None:
        """None when the tenant's boards are not built (the reader falls back to PostgreSQL). Members as
        Redis spells them (canonical UUID strings, which sort as their UUIDs do)."""
        keys = [ready_key(self._tenant_id), board_key(self._tenant_id, board, unit_id), applied_key(self._tenant_id)]
        arguments = (limit, str(me) if me else "")
        before = stamps.floor(self._tenant_id)
        try:
            answer = await self._redis.evalsha(TOP_SCRIPT_SHA, 3, *keys, *arguments)
        except NoScriptError:
            answer = await self._redis.eval(TOP_SCRIPT, 3, *keys, *arguments)
        if answer is None:
            return None
        head_text, tied_text, my_score, above, ready, applied = answer
        belief = stamps.judge(self._tenant_id, ready, int(applied), before)
        if belief is stamps.Belief.WENT_BACK:
            went_back(self._tenant_id)
        if belief is not stamps.Belief.SOUND:
            return None
        head = head_text.split()
        scores = {member: int(float(score)) for member, score in zip(head[::2], head[1::2], strict=True)}
        if tied_text:
            scores.update(dict.fromkeys(tied_text.split(), int(float(head[2 * limit - 1]))))
        # Redis orders equal scores by member descending; the documented order within a tie is by id.
        ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        # The page is the head of the board, so everyone above a score on it is on it too: a rank is
        # one more than the count of higher scores before it.
        top = []
        rank = 0
        for position, (member, points) in enumerate(ordered, start=1):
            if position == 1 or points != ordered[position - 2][1]:
                rank = position
            top.append((rank, member, points))
        mine = Standing(int(above) + 1, me, "", int(float(my_score))) if me is not None and my_score else None
        return top, mine

    async def _from_database(
        self, board: Board, unit_path: str, limit: int, me: uuid.UUID | None
    ) -> tuple[list[tuple[int, str, int]], Standing | None]:
        months = board.months()
        rows = await self._open_session().execute(
            text(
                """
                WITH earned AS (
                    SELECT e.member_id, sum(e.earned) AS points
                      FROM member_earned_monthly e
                      JOIN members m ON m.tenant_id = e.tenant_id AND m.id = e.member_id
                      JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                     WHERE e.tenant_id = :tenant AND starts_with(u.path, :path) AND m.active
                       AND (CAST(:first AS date) IS NULL OR e.month BETWEEN :first AND :last)
                     GROUP BY e.member_id
                    HAVING sum(e.earned) <> 0),
                ranked AS (
                    SELECT member_id, points, rank() OVER (ORDER BY points DESC) AS rank,
                           row_number() OVER (ORDER BY points DESC, member_id) AS position
                      FROM earned)
                SELECT rank, member_id, points, position FROM ranked
                 WHERE position <= :limit OR member_id = CAST(:me AS uuid)
                 ORDER BY position
                """
            ),
            {
                "tenant": self._tenant_id,
                "path": unit_path,
                "first": months[0] if months else None,
                "last": months[1] if months else None,
                "limit": limit,
                "me": me,
            },
        )
        found = [(int(rank), member_id, int(points), position) for rank, member_id, points, position in rows]
        mine = next((Standing(rank, member, "", points) for rank, member, points, _ in found if member == me), None)
        return [(rank, str(member), points) for rank, member, points, position in found if position <= limit], mine

    async def _named(self, top: list[tuple[int, str, int]]) -> list[Standing]:
        if not top:
            return []
        names = await self._names.of(self._open_session, self._tenant_id, [member for _, member, _ in top])
        return [Standing(rank, *names[member], points) for rank, member, points in top]


# How long a process believes a unit path it read. A unit moved in the console changes the paths of its
# whole subtree: the process that moved it forgets them at once, the others within this time.
UNIT_PATH_SECONDS = 30.0


@dataclass
class UnitPaths:
    """Materialised paths of org units, per process; it spares a staff read its unit lookups. A path
    changes only when its unit (or one above it) is moved: the moving process calls `forget`, every
    other process reads the path again once it is UNIT_PATH_SECONDS old."""

    paths: dict[tuple[uuid.UUID, uuid.UUID], tuple[str, float]] = field(default_factory=dict)

    def get(self, tenant_id: uuid.UUID, unit_id: uuid.UUID | None) -> str | None:
        found = self.paths.get((tenant_id, unit_id)) if unit_id is not None else None
        if found is None or time.monotonic() - found[1] > UNIT_PATH_SECONDS:
            return None
        return found[0]

    def put(self, tenant_id: uuid.UUID, unit_id: uuid.UUID, path: str) -> None:
        if len(self.paths) >= MAX_CACHED_NAMES:
            self.paths.clear()
        self.paths[(tenant_id, unit_id)] = (path, time.monotonic())

    def forget(self, tenant_id: uuid.UUID) -> None:
        """Every path of the tenant: a unit of it moved."""
        for key in [key for key in self.paths if key[0] == tenant_id]:
            del self.paths[key]


def after_members_moved(session: AsyncSession, redis: Redis, tenant_id: uuid.UUID) -> None:
    """Once a member's move to another unit commits: the tenant's boards are dropped and rebuilt."""

    async def drop() -> None:
        await drop_boards(redis, tenant_id)

    after_commit(session, drop)


def after_units_moved(session: AsyncSession, redis: Redis, paths: UnitPaths | None, tenant_id: uuid.UUID) -> None:
    """Once a unit move commits: this process forgets the tenant's cached unit paths, and the tenant's
    boards (built along the old tree) are dropped, so readers go to PostgreSQL until they are rebuilt."""

    async def forget_and_drop() -> None:
        if paths is not None:
            paths.forget(tenant_id)
        await drop_boards(redis, tenant_id)

    after_commit(session, forget_and_drop)


@dataclass(frozen=True)
class MemberView:
    home_path: str | None
    unit_id: uuid.UUID | None
    unit_path: str | None
    member_ranking: str


MEMBER_VIEW = """SELECT h.path, u.id, u.path, t.member_ranking
                   FROM members m
                   JOIN org_units h ON h.tenant_id = m.tenant_id AND h.id = m.org_unit_id
                   JOIN tenants t ON t.id = m.tenant_id
                   LEFT JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = coalesce($3::uuid, m.org_unit_id)
                  WHERE m.tenant_id = $1 AND m.id = $2"""


async def member_view(
    pool: ReadPool, tenant_id: uuid.UUID, member_id: uuid.UUID | None, unit_id: uuid.UUID | None
) -> MemberView:
    """A member's home unit, the unit they ask for (their home unit by default) and the tenant's
    ranking setting, in one query, remembered by the process for up to 3 s (leaderboards/member_views.py).
    On the hot-read pool (points_service/database/reads.py): through a session it cost a member's
    board read a third of its CPU."""
    key = (tenant_id, member_id, unit_id)
    known: MemberView | None = MEMBER_VIEWS.get(key)
    if known is not None:
        return known
    row = await pool.fetchrow(MEMBER_VIEW, tenant_id, member_id, unit_id)
    if row is None:
        view = MemberView(None, None, None, "public")
    else:
        home, found_id, found_path, ranking = row
        view = MemberView(home, found_id, found_path, ranking or "public")
    MEMBER_VIEWS.put(key, view)
    return view
