"""The daily early-warning run: stored once per tenant and day (also when two run at once), the same
findings as the on-demand checks, read only within the caller's subtree, the tenant's thresholds, the
loop's time of day and the cron command."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.warnings.daily import KEEP_FINDINGS_DAYS, DailyWarnings, run_due
from admin.warnings.models import WarningItem, WarningRun
from points_service.bootstrap import create_tenant
from points_service.settings import Settings, SettingsError
from points_service.tenancy.models import Tenant
from points_service.tenancy.periods import TenantClock
from tests.conftest import Community, Services, unique
from tests.merchants.test_redemption_flow import shop
from tests.points_service.test_duty import create_post, holder, one_shift

Sessions = async_sessionmaker[AsyncSession]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return TenantClock("Asia/Shanghai").today()


async def run_today(sessions: Sessions, community: Community) -> WarningRun | None:
    async with sessions() as session, session.begin():
        return await DailyWarnings(session, community.tenant_id).run_day(today())


async def stored(sessions: Sessions, community: Community) -> tuple[int, int]:
    """(runs, findings) stored for the tenant."""
    async with sessions() as session:
        runs = await session.scalar(
            select(func.count()).select_from(WarningRun).where(WarningRun.tenant_id == community.tenant_id)
        )
        items = await session.scalar(
            select(func.count()).select_from(WarningItem).where(WarningItem.tenant_id == community.tenant_id)
        )
    return int(runs or 0), int(items or 0)


async def set_timezone(sessions: Sessions, tenant_id: uuid.UUID, timezone: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(timezone=timezone))


async def a_community_with_every_warning(community: Community) -> dict[str, Any]:
    """Two areas with something of every kind: quiet members, an unregistered in-service member, a
    post nobody holds, a missed shift, a sold-out reward."""
    root = await community.org_unit()
    east = await community.org_unit("东区", "area", root)
    west = await community.org_unit("西区", "area", root)
    active = await community.member(east, name="张活跃")
    await community.award(active["id"], await community.rule(points=5))
    await community.member(east, name="李安静")
    await community.member(west, name="钱未报", party_status="in_service")
    rule = await community.rule(points=10, category="duty", unit="hour")
    held = await create_post(community.admin, west, rule, "环境卫生岗")
    await create_post(community.admin, east, rule, "安全信息岗")
    member, _ = await holder(community, west, held, "周缺岗")
    await one_shift(community.admin, held, member["id"], -30, -28)
    await shop(community, east, stock=0)
    return {"root": root, "east": east, "west": west}


async def test_running_the_same_day_twice_stores_it_once(community: Community, sessions: Sessions) -> None:
    await a_community_with_every_warning(community)

    first = await run_today(sessions, community)
    second = await run_today(sessions, community)

    assert first is not None and first.item_count > 0
    assert second is None
    assert await stored(sessions, community) == (1, first.item_count)


async def test_two_runs_of_the_same_day_at_once_store_it_once(community: Community, sessions: Sessions) -> None:
    await a_community_with_every_warning(community)

    runs = await asyncio.gather(run_today(sessions, community), run_today(sessions, community))

    [run] = [found for found in runs if found is not None]
    assert runs.count(None) == 1
    assert await stored(sessions, community) == (1, run.item_count)


async def test_the_stored_run_holds_what_the_on_demand_checks_find(community: Community, sessions: Sessions) -> None:
    units = await a_community_with_every_warning(community)
    await run_today(sessions, community)

    for unit in units.values():
        daily = (await community.admin.get("/api/v1/admin/warnings/daily", params={"org_unit_id": unit})).json()
        live = (await community.admin.get("/api/v1/admin/warnings", params={"org_unit_id": unit})).json()

        assert daily["run"]["run_date"] == today().isoformat()
        assert daily["checks"] == live["checks"]
        if unit == units["root"]:
            assert all(check["count"] > 0 for check in daily["checks"])


async def test_staff_read_only_their_subtree_of_the_stored_run(community: Community, sessions: Sessions) -> None:
    units = await a_community_with_every_warning(community)
    await run_today(sessions, community)
    east_staff = await community.staff(units["east"])

    own = await east_staff.get("/api/v1/admin/warnings/daily")
    other = await east_staff.get("/api/v1/admin/warnings/daily", params={"org_unit_id": units["west"]})
    above = await east_staff.get("/api/v1/admin/warnings/daily", params={"org_unit_id": units["root"]})

    assert other.status_code == 404 and above.status_code == 404
    names = {item.get("name") or item.get("title") for check in own.json()["checks"] for item in check["items"]}
    assert names == {"李安静", "安全信息岗", "大米5斤"}


async def test_a_months_old_runs_findings_are_forgotten_and_the_run_itself_kept(
    community: Community, sessions: Sessions
) -> None:
    await community.member(await community.org_unit(), name="李安静")
    async with sessions() as session, session.begin():
        old = await DailyWarnings(session, community.tenant_id).run_day(
            today() - timedelta(days=KEEP_FINDINGS_DAYS + 1)
        )
    assert old is not None and old.item_count == 1

    await run_today(sessions, community)

    assert await stored(sessions, community) == (2, 1)


async def test_before_the_first_run_there_is_no_stored_run(community: Community) -> None:
    unit = await community.org_unit()

    body = (await community.admin.get("/api/v1/admin/warnings/daily", params={"org_unit_id": unit})).json()

    assert body["run"] is None and body["checks"] == []


async def test_the_daily_run_uses_the_thresholds_an_admin_chose(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    changed = await community.admin.patch(
        "/api/v1/admin/warnings/settings", json={"inactive_days": 7, "attendance_below": 0.5}
    )
    await run_today(sessions, community)

    body = (await community.admin.get("/api/v1/admin/warnings/daily", params={"org_unit_id": unit})).json()

    assert changed.json() == {"inactive_days": 7, "attendance_below": 0.5, "duty_days": 30}
    assert (body["run"]["inactive_days"], body["run"]["attendance_below"]) == (7, 0.5)
    assert body["checks"][0]["label"] == "连续7天无积分"


async def test_staff_may_not_change_the_thresholds(community: Community) -> None:
    staff = await community.staff(await community.org_unit())

    response = await staff.patch("/api/v1/admin/warnings/settings", json={"inactive_days": 7})

    assert response.status_code == 403
    assert (await staff.get("/api/v1/admin/warnings/settings")).json()["inactive_days"] == 30


async def test_the_loop_runs_a_tenant_once_its_local_clock_passes_the_hour(
    community: Community, sessions: Sessions
) -> None:
    await community.org_unit()
    day = today()
    early = datetime.combine(day, time(0, 30), SHANGHAI).astimezone(UTC)
    later = datetime.combine(day, time(1, 30), SHANGHAI).astimezone(UTC)
    tenants = [community.tenant_id]

    before = await run_due(sessions, time(1, 0), early, tenants)
    after = await run_due(sessions, time(1, 0), later, tenants)
    again = await run_due(sessions, time(1, 0), later, tenants)

    assert before.stored == [] and again.stored == []
    assert [(tenant_id, run.run_date) for tenant_id, run in after.stored] == [(community.tenant_id, day)]


async def test_a_tenant_whose_run_fails_leaves_the_others_to_run(community: Community, sessions: Sessions) -> None:
    await community.org_unit()
    async with sessions() as session, session.begin():
        broken = await create_tenant(session, unique("街道"))
    # A time zone no clock knows breaks that tenant's run; it is mended afterwards, so later runs over
    # every tenant of the suite do not trip on it.
    await set_timezone(sessions, broken.id, "Mars/Olympus_Mons")
    try:
        due = await run_due(sessions, None, datetime.now(UTC), [broken.id, community.tenant_id])
    finally:
        await set_timezone(sessions, broken.id, "Asia/Shanghai")

    assert due.failed == [broken.id]
    assert [tenant_id for tenant_id, _ in due.stored] == [community.tenant_id]


async def test_the_cron_command_stores_todays_run_and_skips_it_the_second_time(
    community: Community, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from points_service.cli import main

    await community.org_unit()
    monkeypatch.setitem(os.environ, "DATABASE_URL", services.database_url)
    monkeypatch.setitem(os.environ, "REDIS_URL", services.redis_url)
    runner = CliRunner()

    first = await asyncio.to_thread(runner.invoke, main, ["warnings", "run"], catch_exceptions=False)
    second = await asyncio.to_thread(runner.invoke, main, ["warnings", "run"], catch_exceptions=False)

    assert first.exit_code == 0 and f"tenant {community.tenant_id}: {today()}" in first.output
    assert second.exit_code == 0
    assert second.output.strip().endswith("stored 0 daily warning runs (tenants already run today are skipped)")


def test_the_daily_time_is_a_local_time_or_off() -> None:
    assert Settings.from_env({}).daily_warnings_at == time(1, 0)
    assert Settings.from_env({"POINTS_DAILY_WARNINGS_AT": "06:30"}).daily_warnings_at == time(6, 30)
    assert Settings.from_env({"POINTS_DAILY_WARNINGS_AT": "off"}).daily_warnings_at is None
    with pytest.raises(SettingsError):
        Settings.from_env({"POINTS_DAILY_WARNINGS_AT": "25:00"})
