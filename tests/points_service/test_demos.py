"""The demos a newcomer loads: the small community, and the district at real scale (here small)."""

from __future__ import annotations

import uuid
from datetime import date

import click
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.app import reconcile_all
from points_service.auth.accounts import create_login
from points_service.district_demo import DistrictSummary, load_district, no_progress
from points_service.duty.models import Post, PostClaim, Shift
from points_service.org.models import Member, OrgUnit
from points_service.tenancy.models import Tenant
from tests.conftest import ServedApp

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


async def test_the_small_demo_loads_a_community_with_logins(sessions: Sessions, served: ServedApp) -> None:
    from points_service.demo import load_demo

    prefix = f"d{uuid.uuid4().hex[:8]}"
    admin, tenant_name = f"{prefix}-admin", f"演示社区 {prefix}"
    async with sessions() as session, session.begin():
        summary = await load_demo(session, tenant_name, admin, "demo-password", prefix)

    assert "40 members" in summary
    for username in (admin, f"{prefix}-staff", f"{prefix}-clerk1", f"{prefix}-clerk2", f"{prefix}1", f"{prefix}3"):
        assert username in summary
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.name == tenant_name))
        community_id = await session.scalar(
            select(OrgUnit.id).where(OrgUnit.tenant_id == tenant_id, OrgUnit.kind == "community")
        )
        count = await session.scalar(select(func.count()).where(Member.tenant_id == tenant_id))
        posts = list(await session.scalars(select(Post.name).where(Post.tenant_id == tenant_id).order_by(Post.name)))
        held = await session.scalar(
            select(func.count()).where(PostClaim.tenant_id == tenant_id, PostClaim.status == "approved")
        )
        shifts = await session.scalar(select(func.count()).where(Shift.tenant_id == tenant_id))
        failed = [check for check in await reconcile_all(session, tenant_id=tenant_id) if not check.ok]
    assert count == 40
    assert f"/public/units/{community_id}" in summary
    assert "文明监督岗" in posts and "移风易俗岗" in posts and len(posts) == 7
    assert (held, shifts) == (6, 24)
    assert failed == []

    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as anonymous:

        async def signed_in(username: str) -> httpx.AsyncClient:
            response = await anonymous.post(
                "/api/v1/auth/login", json={"username": username, "password": "demo-password"}
            )
            assert response.status_code == 200, response.text
            # Demo logins work at once: no forced password change on the first sign-in.
            assert response.json()["password_change_required"] is False
            token = response.json()["access_token"]
            return httpx.AsyncClient(base_url=served.base_url, timeout=60, headers={"Authorization": f"Bearer {token}"})

        # The member the tour opens: a history, an activity under way, wishes and a shop to spend in.
        async with await signed_in(f"{prefix}1") as member:
            assert len((await member.get("/api/v1/me/ledger")).json()["items"]) >= 3
            activities = (await member.get("/api/v1/activities")).json()["items"]
            assert "敬老院陪伴志愿服务" in [activity["title"] for activity in activities]
            assert len((await member.get("/api/v1/wishes")).json()["items"]) >= 2
            assert len((await member.get("/api/v1/rewards")).json()["items"]) == 5
            codes = (await member.get("/api/v1/me/redemptions")).json()["items"]
            assert [code["status"] for code in codes] == ["pending"]  # a code to show at the counter
        async with await signed_in(f"{prefix}-clerk1") as clerk:
            titles = [reward["title"] for reward in (await clerk.get("/api/v1/merchant/rewards")).json()["items"]]
            assert "食用油一桶 (5L)" in titles and len(titles) == 3
        async with await signed_in(f"{prefix}-staff") as staff:
            pending = (await staff.get("/api/v1/admin/approvals")).json()["items"]
            kinds = {item["kind"] for item in pending}
            assert {"claim", "attendance"} <= kinds, kinds
            assert any("楼道清洁日" in item["summary"] for item in pending if item["kind"] == "attendance")
        board = await anonymous.get(f"/api/v1/public/units/{community_id}/evaluations")
        assert len(board.json()["items"]) == 1, board.text
        for username in (admin, f"{prefix}2", f"{prefix}3", f"{prefix}-clerk2"):
            async with await signed_in(username) as client:
                assert (await client.get("/api/v1/me")).status_code == 200


async def test_the_demo_loads_beside_a_bootstrap_admin_once(sessions: Sessions) -> None:
    from points_service.bootstrap import ensure_tenant
    from points_service.demo import load_demo

    prefix = f"d{uuid.uuid4().hex[:8]}"
    tenant_name, admin = f"启动社区 {prefix}", f"{prefix}-boot"
    async with sessions() as session, session.begin():
        # What `serve` does at start-up with an admin set in the environment (bootstrap.ensure_admin).
        tenant = await ensure_tenant(session, tenant_name)
        await create_login(session, tenant.id, admin, "their-own-secret", "admin")

    async with sessions() as session, session.begin():
        loaded = await load_demo(session, tenant_name, admin, "admin-password", prefix, parts=[])
    async with sessions() as session, session.begin():
        again = await load_demo(session, tenant_name, admin, "admin-password", prefix, parts=[])

    assert loaded.startswith("demo loaded") and "40 members" in loaded
    assert again.startswith(f"demo already loaded in tenant {tenant_name!r}; nothing changed")
    for summary in (loaded, again):
        assert f"{prefix}1 " in summary and f"{prefix}-staff " in summary
        assert "(your own password)" in summary  # the bootstrap admin keeps the password they chose
    async with sessions() as session:
        members = await session.scalar(select(func.count()).where(Member.tenant_id == tenant.id))
    assert members == 40

    # Another tenant's name with this admin: refused, and nothing (not even the tenant) is left behind.
    with pytest.raises(click.ClickException, match="not an admin of"):
        async with sessions() as session, session.begin():
            await load_demo(session, f"别的社区 {prefix}", admin, "admin-password", prefix, parts=[])
    async with sessions() as session:
        assert await session.scalar(select(Tenant.id).where(Tenant.name == f"别的社区 {prefix}")) is None
