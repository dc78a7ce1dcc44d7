"""The member's messages (消息): written in the transaction of what causes them (an award, a wish
claimed, an activity cancelled), none for a refused action; read over the API and on the member page,
where the badge on the home tab counts the unread ones and reading the screen clears it; and the
large-text switch (大字) that the page remembers."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.inbox.models import MemberNotice
from tests.admin.test_console import staff_login
from tests.admin.test_console_points import csrf, notice, send
from tests.admin.test_console_work import signed_in_web
from tests.conftest import Community, ServedApp
from tests.merchants import test_merchant_page as merchant_page
from tests.merchants.test_merchant_page import fits_the_phone
from tests.points_service.test_activities import code_of, create_activity, member_phone, sign_up
from tests.points_service.test_member_page import screenshot, sign_in
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

    assert refused_before.status_code == 404
    assert claimed.status_code == 200 and staff_claimed.status_code == 200
    assert refused.status_code == 409 and code_of(refused) == "wish_taken"
    told = await notices_of(sessions, community, poster["id"], "wish_claimed")
    assert [(params["title"], params["by"]) for params in told] == [("帮忙买菜", "赵*")]
    assert [item["text"] for item in (await messages(poster_phone))["items"]] == [
        "您发布的心愿「帮忙买菜」已被 赵* 认领"
    ]
    async with sessions() as session:
        # Nobody else heard of either wish: the staff's wish has no member behind its poster.
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
