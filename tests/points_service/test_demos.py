"""The demos a newcomer loads: the small community, and the district at real scale (here small)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.app import reconcile_all
from points_service.district_demo import DistrictSummary, load_district, no_progress
from points_service.duty.models import Post, PostClaim, Shift
from points_service.org.models import Member, OrgUnit
from points_service.tenancy.models import Tenant

Sessions = async_sessionmaker[AsyncSession]


async def test_the_district_demo_builds_a_district_with_a_year_of_points(sessions: Sessions) -> None:
    # Three communities instead of 55 keep the test short; the shape below each is the full one.
    summary = await load_district(sessions, members=120, progress=no_progress, communities=3, today=date(2026, 11, 23))

    assert isinstance(summary, DistrictSummary), summary
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.name == summary.tenant_name))
        kinds = dict(
            (
                await session.execute(
                    select(OrgUnit.kind, func.count()).where(OrgUnit.tenant_id == tenant_id).group_by(OrgUnit.kind)
                )
            ).all()
        )
        statuses = set(await session.scalars(select(Member.party_status).where(Member.tenant_id == tenant_id)))
        secretaries = await session.scalar(
            select(func.count()).where(Member.tenant_id == tenant_id, Member.cadre_position == "支部书记")
        )
        months = list(
            await session.scalars(
                text("SELECT DISTINCT month FROM member_earned_monthly WHERE tenant_id = :t ORDER BY month"),
                {"t": tenant_id},
            )
        )
        kinds_posted = set(
            await session.scalars(
                text("SELECT DISTINCT kind FROM ledger_transactions WHERE tenant_id = :t"), {"t": tenant_id}
            )
        )
        failed = [check for check in await reconcile_all(session, tenant_id=tenant_id) if not check.ok]

    assert kinds == {"district": 1, "street": 1, "community": 3, "area": 9, "branch": 27, "group": 81}
    assert summary.members == 120 and statuses == {"in_service", "retired", "mobile", "none"}
    assert secretaries == 27  # one per branch
    assert months[0] == date(2025, 12, 1) and months[-1] == date(2026, 11, 1) and len(months) == 12
    assert {"award", "penalty", "reversal"} <= kinds_posted
    assert failed == []
    again = await load_district(sessions, members=5, progress=no_progress, communities=1)
    assert again == "district demo already loaded (user 'district-admin' exists); nothing changed"


async def test_the_small_demo_loads_a_community_with_logins(sessions: Sessions) -> None:
    from points_service.demo import load_demo

    admin = f"demo-admin-{uuid.uuid4().hex[:8]}"
    async with sessions() as session, session.begin():
        summary = await load_demo(session, f"演示社区 {admin}", admin, "demo-password")

    assert "40 members" in summary
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.name == f"演示社区 {admin}"))
        count = await session.scalar(select(func.count()).where(Member.tenant_id == tenant_id))
        posts = list(await session.scalars(select(Post.name).where(Post.tenant_id == tenant_id).order_by(Post.name)))
        held = await session.scalar(
            select(func.count()).where(PostClaim.tenant_id == tenant_id, PostClaim.status == "approved")
        )
        shifts = await session.scalar(select(func.count()).where(Shift.tenant_id == tenant_id))
        failed = [check for check in await reconcile_all(session, tenant_id=tenant_id) if not check.ok]
    assert count == 40
    assert "文明监督岗" in posts and "移风易俗岗" in posts and len(posts) == 7
    assert (held, shifts) == (6, 24)
    assert failed == []
