"""Reading a leaderboard: Redis when its boards are built, PostgreSQL otherwise. Same answer either way:
members with earned points in the period within the subtree, equal points sharing a rank
(1, 2, 2, 4), ties ordered by member id."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.leaderboards.periods import Board, board_key
from points_service.leaderboards.store import is_ready
from points_service.leaderboards.upkeep import STALE_TENANTS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Standing:
    rank: int
    member_id: uuid.UUID
    name: str
    points: int


class LeaderboardService:
    def __init__(self, session: AsyncSession, redis: Redis, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._redis = redis
        self._tenant_id = tenant_id

    async def top(
        self, board: Board, unit_id: uuid.UUID, unit_path: str, limit: int, me: uuid.UUID | None
    ) -> tuple[list[Standing], Standing | None, str]:
        """The first `limit` standings, the caller's own standing, and where the answer came from."""
        try:
            if self._tenant_id not in STALE_TENANTS and await is_ready(self._redis, self._tenant_id):
                top, mine = await self._from_redis(board, unit_id, limit, me)
                return await self._named(top), mine, "redis"
        except (RedisError, OSError):
            logger.warning("leaderboards: Redis unavailable, answering from PostgreSQL")
        top, mine = await self._from_database(board, unit_path, limit, me)
        return await self._named(top), mine, "database"

    async def _from_redis(
        self, board: Board, unit_id: uuid.UUID, limit: int, me: uuid.UUID | None
    ) -> tuple[list[tuple[int, uuid.UUID, int]], Standing | None]:
        key = board_key(self._tenant_id, board, unit_id)
        head = await self._redis.zrevrange(key, 0, limit - 1, withscores=True)
        if not head:
            return [], None
        # Redis orders equal scores by member descending; fetch the whole tie at the border and sort.
        border = head[-1][1]
        tied = await self._redis.zrangebyscore(key, border, border, withscores=True)
        scores = {member: int(score) for member, score in [*head, *tied]}
        ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
        distinct = list(dict.fromkeys(points for _, points in ordered))
        # One round trip for every rank on the page (and the caller's score), not one per score.
        async with self._redis.pipeline(transaction=False) as pipe:
            for points in distinct:
                pipe.zcount(key, f"({points}", "+inf")
            if me is not None:
                pipe.zscore(key, str(me))
            answers = await pipe.execute()
        ranks = {points: above + 1 for points, above in zip(distinct, answers, strict=False)}
        top = [(ranks[points], uuid.UUID(member), points) for member, points in ordered]
        mine = None
        score = answers[-1] if me is not None else None
        if me is not None and score is not None:
            rank = ranks.get(int(score)) or await self._redis.zcount(key, f"({int(score)}", "+inf") + 1
            mine = Standing(rank, me, "", int(score))
        return top, mine

    async def _from_database(
        self, board: Board, unit_path: str, limit: int, me: uuid.UUID | None
    ) -> tuple[list[tuple[int, uuid.UUID, int]], Standing | None]:
        months = board.months()
        rows = await self._session.execute(
            text(
                """
                WITH earned AS (
                    SELECT e.member_id, sum(e.earned) AS points
                      FROM member_earned_monthly e
                      JOIN members m ON m.tenant_id = e.tenant_id AND m.id = e.member_id
                      JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                     WHERE e.tenant_id = :tenant AND starts_with(u.path, :path)
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
        return [(rank, member, points) for rank, member, points, position in found if position <= limit], mine

    async def _named(self, top: list[tuple[int, uuid.UUID, int]]) -> list[Standing]:
        if not top:
            return []
        names = dict(
            (
                await self._session.execute(
                    text("SELECT id, name FROM members WHERE tenant_id = :tenant AND id = ANY(:ids)"),
                    {"tenant": self._tenant_id, "ids": [member for _, member, _ in top]},
                )
            ).all()
        )
        return [Standing(rank, member, names.get(member, ""), points) for rank, member, points in top]
