"""代办 across the member page in Chromium at 360 px: a proxy who chose an elder sees "正在为 王** 代办" on
the activities tab, the activity screen and the rewards tab, and signs the elder up and checks them in
from the activity screen; the sign-up and the check-in are the elder's, recorded as done by the proxy.
A post claimed while acting is listed as the elder's on the 岗位 screen."""

from __future__ import annotations

from typing import Any

from tests.conftest import Community
from tests.merchants.test_merchant_page import fits_the_phone
from tests.points_service.test_activities import create_activity, current_token
from tests.points_service.test_duty import create_post
from tests.points_service.test_member_page import browser, page, screenshot, sign_in

__all__ = ["browser", "page"]
BANNER = "正在为 王** 代办"


async def test_a_proxy_acting_for_an_elder_signs_the_elder_up_and_checks_them_in(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    elder = await community.member(unit, name="王秀英")
    proxy = await community.member(unit, name="李代办", login=True)
    appointed = await community.admin.post(
        "/api/v1/proxies", json={"proxy_member_id": proxy["id"], "member_id": elder["id"]}
    )
    assert appointed.status_code == 201, appointed.text
    rule = await community.rule(points=5)
    activity = await create_activity(community.admin, unit, rule, starts_in=5, title="陪老人体检")
    post = await create_post(community.admin, unit, rule, name="敲门问帮岗")

    await sign_in(page, proxy["username"])
    await page.click("[data-tab=activities]")
    await expect(page.locator("#acting")).to_have_count(0)
    await page.goto("/member/acting")
    await page.locator(f"#acting-choices li[data-member='{elder['id']}'] button").click()
    await expect(page.locator("#message")).to_contain_text("现在开始代办")

    await page.click("[data-tab=activities]")
    await expect(page.locator("#acting")).to_contain_text(BANNER)
    await page.click("[data-tab=rewards]")
    await expect(page.locator("#acting")).to_contain_text(BANNER)
    await expect(page.locator("#own-points")).to_be_visible()
    await page.click("[data-tab=activities]")
    row = page.locator(f"#activity-list li[data-activity='{activity['id']}']")
    await row.locator("a.title").click()
    await expect(page.locator("#acting")).to_contain_text(BANNER)
    await page.click("#sign-up")
    await expect(page.locator("#message")).to_have_text("报名成功")
    await expect(page.locator("#acting")).to_contain_text(BANNER)
    await page.fill("#check-in-code", await current_token(community.admin, activity["id"]))
    await page.click("#check-in")
    await expect(page.locator("#message")).to_have_text("签到成功。工作人员确认考勤后，积分会发到您的账户")
    await fits_the_phone(page)
    await screenshot(page, "40-proxy-checked-elder-in")
    await page.click("[data-tab=activities]")
    await expect(row).to_contain_text("签到成功")

    roster = await community.admin.get(f"/api/v1/activities/{activity['id']}/signups")
    assert roster.status_code == 200, roster.text
    signups = roster.json()["items"]
    # The elder is signed up and checked in; the proxy, who acted, is not on the roster.
    assert [signup["member_id"] for signup in signups] == [elder["id"]]
    assert signups[0]["checked_in_at"] is not None
    assert signups[0]["acted_by"] is not None

    await page.goto("/member/posts")
    await expect(page.locator("#acting")).to_contain_text(BANNER)
    await page.locator(f"#open-posts li[data-post='{post['id']}'] button").click()
    await expect(page.locator(f"#my-posts li[data-post='{post['id']}']")).to_be_visible()

    # Acting stopped: the tab is the proxy's own again, with the elder's sign-up nowhere on it.
    await page.goto("/member/acting")
    await page.locator("#acting-choices li").first.locator("button").click()
    await expect(page.locator("#message")).to_have_text("已结束代办")
    await page.click("[data-tab=activities]")
    await expect(page.locator("#acting")).to_have_count(0)
    await expect(row.locator("form[action$='/sign-up'] button")).to_be_visible()
    # The claim was the elder's: the proxy's own list of posts does not have it.
    await page.goto("/member/posts")
    await expect(page.locator(f"#my-posts li[data-post='{post['id']}']")).to_have_count(0)
