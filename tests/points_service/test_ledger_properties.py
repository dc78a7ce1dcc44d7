"""Random sequences of awards, adjustments and reversals: the ledger's rules (docs/ledger.md) hold after every step."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.app import reconcile_all
from points_service.auth.principal import Principal
from points_service.bootstrap import create_tenant
from points_service.database.session import create_engine, session_factory
from points_service.errors import DomainError
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService
from points_service.rules.service import RuleService
from points_service.tenancy.models import Tenant
from points_service.tenancy.periods import TenantClock
from tests.conftest import Services

MEMBERS = 3
operations = st.lists(
    st.one_of(
        st.tuples(st.just("award"), st.integers(0, MEMBERS - 1), st.integers(1, 5)),
        st.tuples(st.just("penalty"), st.integers(0, MEMBERS - 1), st.integers(1, 3)),
        st.tuples(st.just("adjust"), st.integers(0, MEMBERS - 1), st.integers(-60, 60).filter(bool)),
        st.tuples(st.just("reverse"), st.integers(0, 30), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


async def tenant_with_members(
    session: AsyncSession, name: str, count: int
) -> tuple[Tenant, Principal, list[uuid.UUID]]:
    """A tenant of its own, its admin, and `count` members in one community."""
    tenant = await create_tenant(session, name)
    admin = Principal(account_id=uuid.uuid4(), tenant_id=tenant.id, role="admin")
    ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock(tenant.timezone), None)
    org = OrgService(session, admin)
    unit = await org.create_unit("社区", "community", None)
    members = [
        (
            await org.create_member(
                ledger, f"成员{i}", f"1{uuid.uuid4().int % 10**10:010d}", unit.id, "none", None, None, None
            )
        ).id
        for i in range(count)
    ]
    return tenant, admin, members


async def assert_ledger_holds(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, expected: dict[uuid.UUID, int]
) -> None:
    """`reconcile` is clean and the members' available balances are exactly `expected` (never negative)."""
    async with sessions() as session:
        failed = [c.name for c in await reconcile_all(session, tenant_id=tenant_id) if not c.ok]
        assert failed == []
        balances = dict(
            (row.member_id, row.balance)
            for row in await session.execute(
                text(
                    "SELECT member_id, balance FROM ledger_accounts WHERE tenant_id = :t AND kind = 'member_available'"
                ),
                {"t": tenant_id},
            )
        )
        assert balances == expected
        assert all(balance >= 0 for balance in balances.values())


async def _run(database_url: str, steps: list[tuple[str, int, int]]) -> None:
    engine = create_engine(database_url, pool_size=2)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            tenant, _, members = await tenant_with_members(session, "性质测试", MEMBERS)
            rules = RuleService(session, tenant.id)
            award_rule = await rules.create("AWARD", "奖励", "volunteer", 10, "each", None, None, False)
            penalty_rule = await rules.create("PENALTY", "扣分", "penalty", -15, "each", None, None, False)

        expected = dict.fromkeys(members, 0)
        reversible: list[tuple[uuid.UUID, uuid.UUID, int]] = []
        for kind, target, amount in steps:
            try:
                async with sessions() as session, session.begin():
                    ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock(tenant.timezone), None)
                    if kind == "reverse":
                        if not reversible:
                            continue
                        transaction_id, member_id, change = reversible[target % len(reversible)]
                        posted = await ledger.reverse(transaction_id, "性质测试")
                    elif kind == "adjust":
                        member_id = members[target]
                        posted = await ledger.adjust(member_id, amount, "性质测试")
                    else:
                        member_id = members[target]
                        rule = award_rule if kind == "award" else penalty_rule
                        posted = await ledger.award(member_id, rule, Decimal(amount), None)
                if kind == "reverse":
                    reversible.remove((transaction_id, member_id, change))
                else:
                    reversible.append((posted.transaction_id, member_id, posted.points))
                expected[member_id] += posted.points
                assert posted.balance == expected[member_id]
            except DomainError as refusal:
                assert refusal.code in {"insufficient_points", "already_reversed"}

            await assert_ledger_holds(sessions, tenant.id, expected)
    finally:
        await engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_random_histories_keep_every_ledger_invariant(services: Services, steps: list[tuple[str, int, int]]) -> None:
    asyncio.run(_run(services.database_url, steps))
