"""`points-service reconcile` proves the redemptions' invariants too: the merchants plugin brings them,
and the composed run (`reconcile_all`) reports a redemption altered behind the service's back."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from points_service.app import reconcile_all
from points_service.ledger.reconcile import reconcile
from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import Sessions, member_with_points, redeem


async def test_a_pending_redemption_whose_points_were_altered_fails_the_held_points_check(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=5)
    redemption = await redeem(phone, reward_id)
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE redemptions SET points = points + 1 WHERE tenant_id = :tenant AND id = :id"),
            {"tenant": community.tenant_id, "id": uuid.UUID(redemption["id"])},
        )

    async with sessions() as session:
        composed = await reconcile_all(session, tenant_id=community.tenant_id)
        ledger_only = await reconcile(session, tenant_id=community.tenant_id)

    assert [check.name for check in composed if not check.ok] == ["held points equal the member's pending redemptions"]
    # The ledger's own rows are untouched: only the marketplace's check can see this.
    assert [check.name for check in ledger_only if not check.ok] == []


async def test_the_composed_reconcile_runs_the_ledgers_checks_and_the_marketplaces(
    community: Community, sessions: Sessions
) -> None:
    async with sessions() as session:
        composed = {check.name for check in await reconcile_all(session, tenant_id=community.tenant_id)}
        ledger_only = {check.name for check in await reconcile(session, tenant_id=community.tenant_id)}

    assert ledger_only < composed
    assert composed - ledger_only == {
        "each redemption's transactions match its status",
        "held points equal the member's pending redemptions",
        "a merchant's balance equals its fulfilled redemptions",
        "every redemption transaction belongs to one redemption",
    }
