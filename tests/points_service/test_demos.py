"""The demos a newcomer loads: the small community, and the district at real scale (here small)."""

from __future__ import annotations

import re
import uuid
from datetime import date

import click
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.app import reconcile_all
from points_service.auth.accounts import create_login
from points_service.district_demo import SEEDS, DistrictFigures, DistrictSummary, load_district, no_progress, spread
from points_service.duty.models import Post, PostClaim, Shift
from points_service.org.models import Member, OrgUnit
from points_service.tenancy.models import Tenant
from tests.admin.test_console import CSRF_FIELD
from tests.conftest import ServedApp

Sessions = async_sessionmaker[AsyncSession]


# A small district: the seeds' shape (communities, areas, buildings, registrations, attendance,
# reports, wishes) scaled down so the test stays short; the demo's default is the seeds' figures.
SMALL = DistrictFigures(
    communities=3, areas=8, buildings=26, registered=30, took_part=25, reports=12, handled=10, wishes_claimed=20
)


async def test_the_district_demo_builds_a_district_with_a_year_of_points(sessions: Sessions, served: ServedApp) -> None:
    summary = await load_district(sessions, members=120, progress=no_progress, figures=SMALL, today=date(2026, 11, 23))

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
        # The records themselves, counted here without the console's statistics code.
        records = (
            await session.execute(
                text(
                    """SELECT
                         (SELECT count(*) FROM members WHERE tenant_id = :t),
                         (SELECT count(*) FROM service_registrations r JOIN members m
                             ON m.tenant_id = r.tenant_id AND m.id = r.member_id
                           WHERE r.tenant_id = :t AND m.party_status = 'in_service'),
                         (SELECT count(DISTINCT s.member_id) FROM activity_signups s
                             JOIN activities a ON a.tenant_id = s.tenant_id AND a.id = s.activity_id
                             JOIN service_registrations r ON r.tenant_id = s.tenant_id AND r.member_id = s.member_id
                           WHERE s.tenant_id = :t AND s.attended AND a.confirmed_at IS NOT NULL
                             AND extract(year FROM a.starts_at) = extract(year FROM now())),
                         (SELECT count(*) FROM problem_reports WHERE tenant_id = :t),
                         (SELECT count(*) FROM problem_reports WHERE tenant_id = :t AND status = 'resolved'),
                         (SELECT count(*) FROM problem_reports WHERE tenant_id = :t AND status = 'accepted'),
                         (SELECT count(*) FROM wishes WHERE tenant_id = :t),
                         (SELECT count(*) FROM wishes WHERE tenant_id = :t AND claimed_by IS NOT NULL),
                         (SELECT count(*) FROM ledger_transactions
                           WHERE tenant_id = :t AND source LIKE 'activity:%')"""
                ),
                {"t": tenant_id},
            )
        ).one()
        failed = [check for check in await reconcile_all(session, tenant_id=tenant_id) if not check.ok]

    assert kinds == {"district": 1, "street": 1, "community": 3, "area": 8, "branch": 24, "group": 26}
    assert summary.members == 120 and statuses == {"in_service", "retired", "mobile", "none"}
    assert secretaries == 24  # one per branch
    assert months[0] == date(2025, 12, 1) and len(months) == 13  # a year of points, and today's activities
    assert {"award", "penalty", "reversal"} <= kinds_posted
    members, registered, took_part, reports, handled, in_progress, wishes, claimed, attendance_paid = records
    assert (registered, took_part) == (SMALL.registered, SMALL.took_part)
    assert (reports, handled, in_progress) == (SMALL.reports, SMALL.handled, SMALL.reports - SMALL.handled)
    assert wishes == claimed == SMALL.wishes_claimed
    assert attendance_paid == SMALL.took_part  # confirmed attendance paid each attendee through the ledger
    assert failed == []

    # The console's statistics block counts the same records: the whole district on the admin's home page.
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        form = (await web.get("/admin/login")).text
        token = CSRF_FIELD.search(form).group(1)  # type: ignore[union-attr]
        signed_in = await web.post(
            "/admin/login", data={"username": "district-admin", "password": "demo-password", "_csrf_token": token}
        )
        assert signed_in.status_code == 303, signed_in.text
        home = await web.get("/admin/")
        assert home.status_code == 200, home.text
        assert shown_statistics(home.text) == {
            "communities": 3,
            "areas": 8,
            "buildings": 26,
            "members": members,
            "registered": registered,
            "took_part": took_part,
            "reports": reports,
            "handled": handled,
            "wishes": wishes,
            "claimed": claimed,
        }
        assert "已报到在职党员" in home.text

    again = await load_district(sessions, members=5, progress=no_progress, figures=SMALL)
    assert again == "district demo already loaded (user 'district-admin' exists); nothing changed"


def shown_statistics(page: str) -> dict[str, int]:
    return {key: int(value) for key, value in re.findall(r'data-stat="(\w+)"><dt>[^<]*</dt><dd>(\d+)</dd>', page)}


def test_the_default_district_is_the_seeds() -> None:
    seeds = DistrictFigures(
        communities=55, areas=162, buildings=519, registered=3747, took_part=3218, reports=796, handled=733
    )
    assert seeds.wishes_claimed == 3700 and seeds == SEEDS
    assert sum(spread(SEEDS.areas, SEEDS.communities)) == 162 and sum(spread(SEEDS.buildings, SEEDS.areas)) == 519
    with pytest.raises(ValueError, match="inconsistent"):
        DistrictFigures(registered=10, took_part=11)


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
