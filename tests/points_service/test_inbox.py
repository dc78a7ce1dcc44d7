"""The member's messages (消息): written in the transaction of what causes them (an award, a wish
claimed, an activity cancelled), none for a refused action; read over the API and on the member page,
where the badge on the home tab counts the unread ones and reading the screen clears it; and the
large-text switch (大字) that the page remembers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.warnings.daily import DailyWarnings
from merchants.redemptions.sweep import warn_expiring
from points_service.duty.reminders import tell_tomorrows_shifts
from points_service.inbox.models import MemberNotice
from tests.admin.test_console import staff_login
from tests.admin.test_console_points import csrf, notice, send
from tests.admin.test_console_work import signed_in_web
from tests.conftest import Community, ServedApp
from tests.merchants import test_merchant_page as merchant_page
from tests.merchants.test_merchant_page import fits_the_phone
from tests.merchants.test_redemption_flow import shop
from tests.points_service.test_activities import code_of, create_activity, member_phone, sign_up
from tests.points_service.test_duty import create_post, holder, one_shift
from tests.points_service.test_member_page import screenshot, sign_in
from tests.points_service.test_reports import report
from tests.points_service.test_wishes import post_wish

browser = merchant_page.browser
page = merchant_page.page


async def notices_of(
    sessions: async_sessionmaker[AsyncSession], community: Community, member_id: str, kind: str
) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(MemberNotice).where(
                MemberNotice.tenant_id == community.tenant_id,
                MemberNotice.member_id == member_id,
                MemberNotice.kind == kind,
            )
        )
        return [row.params for row in rows]


async def messages(phone: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await phone.get("/api/v1/me/messages", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_awards_tell_the_member_and_the_api_pages_and_marks_them_read(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10, name="清扫楼道")
    member, phone = await member_phone(community, unit, "王小红")
    _, neighbour = await member_phone(community, unit, "李四")
    for _ in range(3):
        assert (await community.award(member["id"], rule)).status_code == 201
    assert (await community.adjust(member["id"], 7, "补记志愿服务")).status_code == 201
    assert (await community.adjust(member["id"], -2, "纠正")).status_code == 201  # a debit tells nothing

    first = await messages(phone, limit=3)
    rest = await messages(phone, limit=3, cursor=first["next_cursor"])

    assert first["unread"] == 4
    assert [item["text"] for item in first["items"]] == [
        "收到 7 积分：补记志愿服务",
        "收到 10 积分：清扫楼道",
        "收到 10 积分：清扫楼道",
    ]
    assert first["items"][0]["kind"] == "points_received" and first["items"][0]["params"]["points"] == 7
    assert [item["text"] for item in rest["items"]] == ["收到 10 积分：清扫楼道"] and rest["next_cursor"] is None
    assert (await messages(neighbour))["items"] == []

    # Another member's ids mark nothing; the member's own ids, then all.
    stranger = await neighbour.post("/api/v1/me/messages/read", json={"ids": [first["items"][0]["id"]]})
    assert stranger.status_code == 200 and stranger.json() == {"marked": 0, "unread": 0}
    one = await phone.post("/api/v1/me/messages/read", json={"ids": [first["items"][0]["id"]]})
    assert one.json() == {"marked": 1, "unread": 3}
    everything = await phone.post("/api/v1/me/messages/read")
    assert everything.json() == {"marked": 3, "unread": 0}
    assert [item["read"] for item in (await messages(phone))["items"]] == [True] * 4
    staff_reads = await community.admin.get("/api/v1/me/messages")
    assert staff_reads.status_code == 403


async def test_a_claimed_wish_tells_its_poster_once_and_a_refused_claim_tells_nobody(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    poster, poster_phone = await member_phone(community, unit, "王秀英")
    _, first = await member_phone(community, unit, "赵六")
    _, second = await member_phone(community, unit, "孙七")
    wish = await post_wish(poster_phone, unit, title="帮忙买菜")
    staff_wish = await post_wish(community.admin, unit, title="陪同就医")

    refused_before = await first.post("/api/v1/wishes/00000000-0000-0000-0000-000000000000/claim")
    claimed = await first.post(f"/api/v1/wishes/{wish['id']}/claim")
    refused = await second.post(f"/api/v1/wishes/{wish['id']}/claim")
    staff_claimed = await second.post(f"/api/v1/wishes/{staff_wish['id']}/claim")
    own_wish = await post_wish(poster_phone, unit, title="修水管")
    self_claimed = await poster_phone.post(f"/api/v1/wishes/{own_wish['id']}/claim")

    assert refused_before.status_code == 404
    assert claimed.status_code == 200 and staff_claimed.status_code == 200 and self_claimed.status_code == 200
    assert refused.status_code == 409 and code_of(refused) == "wish_taken"
    told = await notices_of(sessions, community, poster["id"], "wish_claimed")
    assert [(params["title"], params["by"]) for params in told] == [("帮忙买菜", "赵*")]
    assert [item["text"] for item in (await messages(poster_phone))["items"]] == [
        "您发布的心愿「帮忙买菜」已被 赵* 认领"
    ]
    async with sessions() as session:
        # Nobody else heard of the others: the staff's wish has no member behind its poster, and the
        # member who took on their own wish is not told of it.
        assert (
            await session.scalar(
                select(func.count()).where(
                    MemberNotice.tenant_id == community.tenant_id, MemberNotice.kind == "wish_claimed"
                )
            )
            == 1
        )


async def test_a_cancelled_activity_tells_each_member_still_signed_up_and_a_refused_one_nobody(
    community: Community, served: ServedApp, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=5)
    activity = await create_activity(community.admin, unit, rule, starts_in=60, title="义诊")
    staying, phone = await member_phone(community, unit, "钱报名")
    leaving, other = await member_phone(community, unit, "周退出")
    assert (await sign_up(phone, activity["id"])).status_code == 201
    assert (await sign_up(other, activity["id"])).status_code == 201
    assert (await other.post(f"/api/v1/activities/{activity['id']}/signups/cancel")).status_code == 200
    web = await signed_in_web(served, await staff_login(community, unit))
    path = f"/admin/activities/{activity['id']}"
    shown = await web.get(path)

    no_reason = await send(web, f"{path}/cancel", {"reason": "  "}, csrf(shown))
    assert await notices_of(sessions, community, staying["id"], "activity_cancelled") == []
    cancelled = await send(web, f"{path}/cancel", {"reason": "下雨改期"}, csrf(no_reason))
    again = await send(web, f"{path}/cancel", {"reason": "再取消一次"}, csrf(cancelled))
    await web.aclose()

    assert "活动已取消" in notice(cancelled) and notice(again) != notice(cancelled)
    told = await notices_of(sessions, community, staying["id"], "activity_cancelled")
    assert [(params["title"], params["reason"]) for params in told] == [("义诊", "下雨改期")]
    assert await notices_of(sessions, community, leaving["id"], "activity_cancelled") == []
    assert [item["text"] for item in (await messages(phone))["items"]] == ["活动「义诊」已取消：下雨改期"]


async def test_an_award_shows_in_the_inbox_with_a_badge_and_large_text_is_remembered(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=10, name="清扫楼道")
    member = await community.member(unit, name="王小红", login=True)
    await sign_in(page, member["username"])
    await expect(page.locator("#greeting")).to_contain_text("王小红")
    await expect(page.locator("#unread-badge")).to_have_count(0)
    await page.click("#go-messages")
    await expect(page.locator("#messages-empty")).to_contain_text("还没有消息")

    staff = await community.staff(unit)
    awarded = await staff.post("/api/v1/admin/awards", json={"member_id": member["id"], "rule_code": rule})
    assert awarded.status_code == 201, awarded.text

    await page.goto("/member/")
    await expect(page.locator("#unread-badge")).to_have_text("1")
    await expect(page.locator("#go-messages")).to_contain_text("1 条未读")
    await fits_the_phone(page)
    await screenshot(page, "inbox-01-badge")
    for tab in ("activities", "rewards", "home"):  # the badge is on the home tab of every screen
        await page.click(f"[data-tab={tab}]")
        await expect(page.locator(f"[data-tab={tab}]")).to_have_attribute("aria-current", "page")
        await expect(page.locator("#unread-badge")).to_have_text("1")
    await page.click("#go-messages")
    await expect(page.locator("#message-list li.unread")).to_contain_text("收到 10 积分：清扫楼道")
    await fits_the_phone(page)
    await screenshot(page, "inbox-02-messages")
    await page.click("[data-tab=home]")
    await expect(page.locator("#greeting")).to_be_visible()
    await expect(page.locator("#unread-badge")).to_have_count(0)

    normal = await page.evaluate("parseFloat(getComputedStyle(document.querySelector('#greeting')).fontSize)")
    await page.click("#text-size-toggle")
    await expect(page.locator("#message")).to_have_text("字体大小已更改")
    await page.reload()
    await expect(page.locator("#text-size-toggle")).to_have_text("标准字")
    large = await page.evaluate("parseFloat(getComputedStyle(document.querySelector('#greeting')).fontSize)")
    assert large >= normal * 1.2, (normal, large)
    await fits_the_phone(page)
    await screenshot(page, "inbox-03-large-text")
    await page.click("#text-size-toggle")
    await expect(page.locator("#text-size-toggle")).to_have_text("大字")


async def test_a_decided_report_tells_its_reporter_and_a_refused_decision_nobody(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_phone(community, unit, "郑上报")
    filed = await report(phone)
    other = await report(phone, place="5号楼")

    refused = await community.admin.post(f"/api/v1/reports/{other['id']}/reject", json={"reason": ""})
    accepted = await community.admin.post(f"/api/v1/reports/{filed['id']}/accept")
    resolved = await community.admin.post(f"/api/v1/reports/{filed['id']}/resolve", json={"resolution": "已更换灯泡"})
    too_late = await community.admin.post(f"/api/v1/reports/{filed['id']}/reject", json={"reason": "重复"})

    assert refused.status_code == 400 and too_late.status_code == 409
    assert accepted.status_code == 200 and resolved.status_code == 200
    assert [item["text"] for item in (await messages(phone))["items"]] == [
        "您上报的「3号楼东侧」已办结：已更换灯泡",
        "您上报的「3号楼东侧」已受理",
    ]


async def test_a_handed_over_reward_and_a_code_about_to_expire_are_each_told_once(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    member, phone = await member_phone(community, unit, "欧阳娜娜")
    assert (await community.adjust(member["id"], 100, "志愿服务")).status_code == 201
    clerk, _, reward_id = await shop(community, unit, stock=5)
    handed = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 2})).json()
    waiting = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()
    fresh = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()
    async with sessions() as session, session.begin():
        # Stands in for the clock: the code was made three days ago and has five hours left.
        await session.execute(
            text(
                "UPDATE redemptions SET created_at = now() - interval '3 days', "
                "expires_at = now() + interval '5 hours' WHERE id = :id"
            ),
            {"id": uuid.UUID(waiting["id"])},
        )

    fulfilled = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": handed["code"]})
    again = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": handed["code"]})
    warned = [await warn_expiring(sessions), await warn_expiring(sessions)]

    assert fulfilled.status_code == 200 and again.status_code == 409
    assert warned[1] == 0 and fresh["status"] == "pending"
    texts = [item["text"] for item in (await messages(phone))["items"]]
    assert texts[0].startswith("您兑换的大米5斤 × 1（红星超市）将于 ") and texts[0].endswith(" 过期，请尽快领取")
    assert texts[1:] == ["您兑换的大米5斤 × 2（红星超市）已领取，用去 40 积分", "收到 100 积分：志愿服务"]


async def test_the_daily_run_tells_tomorrows_shift_holders_once(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, unit, rule, "文明监督岗")
    member, phone = await holder(community, unit, post, "冯值班")
    tz = ZoneInfo("Asia/Shanghai")
    today = datetime.now(tz).date()
    tomorrow_nine = datetime.combine(today + timedelta(days=1), time(9, 0), tz)
    hours = (tomorrow_nine - datetime.now(UTC)).total_seconds() / 3600
    await one_shift(community.admin, post, member["id"], hours, hours + 2)
    await one_shift(community.admin, post, member["id"], hours + 48, hours + 50)  # the day after: not yet

    async with sessions() as session, session.begin():
        await DailyWarnings(session, community.tenant_id).run_day(today)
    async with sessions() as session, session.begin():
        await tell_tomorrows_shifts(session, community.tenant_id, today)  # a second try writes nothing

    assert [item["text"] for item in (await messages(phone))["items"]] == [
        f"明天 {tomorrow_nine:%Y-%m-%d} 09:00 您在「文明监督岗」有值班"
    ]
