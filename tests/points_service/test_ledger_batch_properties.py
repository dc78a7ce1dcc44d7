"""Random batches of awards written together (group commit): each award gets exactly the answer it
would get if the ones before it had been written alone, and the ledger's rules (docs/ledger.md) hold
after every batch."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from points_service.database.session import create_engine, session_factory
from points_service.errors import CapReached, InsufficientPoints
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import CallerAward, LedgerService, Posted
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock
from tests.conftest import Services
from tests.points_service.test_ledger_properties import assert_ledger_holds, tenant_with_members

MEMBERS = 3
DAILY_CAP = 30
# (rule, points each)
RULES = {"AWARD": 10, "CAPPED": 10, "PENALTY": -15}
award = st.tuples(st.integers(0, MEMBERS - 1), st.sampled_from(sorted(RULES)), st.integers(1, 3))
batches = st.lists(st.lists(award, min_size=1, max_size=8), min_size=1, max_size=4)


async def _run(database_url: str, steps: list[list[tuple[int, str, int]]]) -> None:
    engine = create_engine(database_url, pool_size=2)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            tenant, admin, members = await tenant_with_members(session, "批量性质测试", MEMBERS)
            ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock(tenant.timezone), None)
            service = RuleService(session, tenant.id)
            rules = {
                "AWARD": await service.create("AWARD", "奖励", "volunteer", 10, "each", None, None, False),
                "CAPPED": await service.create("CAPPED", "封顶", "volunteer", 10, "each", DAILY_CAP, None, False),
                "PENALTY": await service.create("PENALTY", "扣分", "penalty", -15, "each", None, None, False),
            }
            # Something to lose, so penalties are sometimes paid and sometimes refused.
            for member_id in members:
                await ledger.adjust(member_id, 20, "开户")

        balance = dict.fromkeys(members, 20)
        capped_today = dict.fromkeys(members, 0)
        for batch in steps:
            async with sessions() as session, session.begin():
                ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock(tenant.timezone), None)
                answers = await ledger.award_each(
                    [
                        CallerAward(members[member], rules[code], Decimal(quantity), None, admin.account_id)
                        for member, code, quantity in batch
                    ]
                )
            assert len(answers) == len(batch)
            for (member, code, quantity), answer in zip(batch, answers, strict=True):
                member_id = members[member]
                points = RULES[code] * quantity
                if code == "CAPPED" and capped_today[member_id] + points > DAILY_CAP:
                    assert isinstance(answer, CapReached), (batch, answer)
                elif balance[member_id] + points < 0:
                    assert isinstance(answer, InsufficientPoints), (batch, answer)
                else:
                    balance[member_id] += points
                    if code == "CAPPED":
                        capped_today[member_id] += points
                    assert isinstance(answer, Posted), (batch, answer)
                    assert (answer.member_id, answer.points, answer.balance) == (member_id, points, balance[member_id])

            await assert_ledger_holds(sessions, tenant.id, balance)
    finally:
        await engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=batches)
def test_random_batches_answer_each_award_as_if_alone(
    services: Services, steps: list[list[tuple[int, str, int]]]
) -> None:
    asyncio.run(_run(services.database_url, steps))
