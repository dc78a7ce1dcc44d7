"""Leaderboards equal a plain SQL ranking over the ledger, for random histories, every period and
subtree, ties and reversals included; live updates and a rebuild give the same boards."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from points_service.auth.principal import Principal
from points_service.bootstrap import create_tenant
from points_service.database.session import create_engine, run_after_commit, session_factory
from points_service.errors import DomainError
from points_service.leaderboards.periods import Board
from points_service.leaderboards.service import LeaderboardService
from points_service.leaderboards.store import publish_standings, rebuild
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService
from points_service.redis_pool import create_redis
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock
from tests.conftest import Services

MEMBERS = 5
steps_strategy = st.lists(
    st.tuples(st.sampled_from(["award", "penalty", "reverse"]), st.integers(0, MEMBERS - 1), st.integers(1, 3)),
    min_size=1,
    max_size=15,
)


async def ledger_ranking(session, tenant_id: uuid.UUID, path: str, month: str | None) -> list[tuple[int, str, int]]:
    """The reference: straight from ledger transactions, not from any table the boards read."""
    rows = await session.execute(
        text(
            """
            WITH earned AS (
                SELECT t.member_id, sum(t.earned_delta) AS points
                  FROM ledger_transactions t
                  JOIN members m ON m.tenant_id = t.tenant_id AND m.id = t.member_id
                  JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                 WHERE t.tenant_id = :tenant AND u.path LIKE :path || '%'
                   AND (CAST(:month AS text) IS NULL OR to_char(t.local_date, 'YYYY-MM') = :month)
                 GROUP BY t.member_id HAVING sum(t.earned_delta) <> 0)
            SELECT rank() OVER (ORDER BY points DESC), member_id::text, points FROM earned
             ORDER BY points DESC, member_id
            """
        ),
        {"tenant": tenant_id, "path": path, "month": month},
    )
    return [(int(rank), member, int(points)) for rank, member, points in rows]


async def every_board(redis, tenant_id: uuid.UUID) -> dict[str, list[tuple[str, float]]]:
    """Every key of the tenant's boards with its members and scores: what a rebuild must reproduce."""
    return {
        key: await redis.zrange(key, 0, -1, withscores=True)
        async for key in redis.scan_iter(match=f"lb:{{{tenant_id}}}:*")
        if await redis.type(key) == "zset"
    }


async def run_history(services: Services, steps: list[tuple[str, int, int]]) -> None:
    engine = create_engine(services.database_url, pool_size=2)
    sessions = session_factory(engine)
    redis = create_redis(services.redis_url)
    try:
        async with sessions() as session, session.begin():
            tenant = await create_tenant(session, "排名性质测试")
            admin = Principal(account_id=uuid.uuid4(), tenant_id=tenant.id, role="admin")
            ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock(tenant.timezone), None)
            org = OrgService(session, admin)
            root = await org.create_unit("社区", "community", None)
            areas = [await org.create_unit(f"片区{n}", "area", root.id) for n in range(2)]
            members = [
                (
                    await org.create_member(
                        ledger,
                        f"成员{i}",
                        f"1{uuid.uuid4().int % 10**10:010d}",
                        areas[i % 2].id,
                        "none",
                        None,
                        None,
                        None,
                    )
                ).id
                for i in range(MEMBERS)
            ]
            rules = RuleService(session, tenant.id)
            award = await rules.create("A", "奖", "volunteer", 10, "each", None, None, False)
            penalty = await rules.create("P", "罚", "penalty", -5, "each", None, None, False)
        async with sessions() as session:
            await rebuild(session, redis, tenant.id)

        awarded: list[uuid.UUID] = []
        for kind, target, quantity in steps:
            async with sessions() as session:

                async def publish(changes):
                    await publish_standings(redis, tenant.id, changes)

                ledger = LedgerService(
                    LedgerRepository(session, tenant.id), TenantClock(tenant.timezone), None, publish
                )
                try:
                    async with session.begin():
                        if kind == "reverse":
                            if not awarded:
                                continue
                            await ledger.reverse(awarded.pop(target % len(awarded)), "测试")
                        else:
                            rule = award if kind == "award" else penalty
                            posted = await ledger.award(members[target], rule, Decimal(quantity), None)
                            awarded.append(posted.transaction_id)
                except DomainError:
                    continue
                await run_after_commit(session)

        today = TenantClock(tenant.timezone).today()
        boards = [Board("month", f"{today:%Y-%m}"), Board("year", f"{today:%Y}"), Board("all", "all")]
        units = [root, *areas]
        async with sessions() as session:
            service = LeaderboardService(session, redis, tenant.id)
            live = {}
            for unit in units:
                expected = await ledger_ranking(session, tenant.id, unit.path, None)
                for board in boards:
                    top, _, source = await service.top(board, unit.id, unit.path, 50, None)
                    live[(unit.id, board)] = [(s.rank, str(s.member_id), s.points) for s in top]
                    assert source == "redis"
                    assert live[(unit.id, board)] == expected
            before = await every_board(redis, tenant.id)
            await rebuild(session, redis, tenant.id)
            assert await every_board(redis, tenant.id) == before
            for unit in units:
                for board in boards:
                    top, _, _ = await service.top(board, unit.id, unit.path, 50, None)
                    assert [(s.rank, str(s.member_id), s.points) for s in top] == live[(unit.id, board)]
    finally:
        await redis.aclose()
        await engine.dispose()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps_strategy)
def test_boards_equal_sql_ranking_over_the_ledger(services: Services, steps: list[tuple[str, int, int]]) -> None:
    asyncio.run(run_history(services, steps))
