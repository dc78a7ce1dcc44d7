"""The member's mobile page (/member/) in a real browser at phone size: balance and history, redeeming
a reward and showing its code and QR, cancelling it, signing up and checking in to an activity, in
Chinese by default and in English; and the page's security headers.

Driven through Debian's chromium by Playwright (never `playwright install`); skipped only when
/usr/bin/chromium is missing. Screenshots of each step go to test-artifacts/member-page/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import Community, ServedApp
from tests.merchants import test_merchant_page as merchant_page
from tests.merchants.test_merchant_page import fits_the_phone
from tests.merchants.test_redemption_flow import shop
from tests.points_service.test_activities import create_activity, current_token
from tests.points_service.test_duty import backdate_check_in, create_post, holder, one_shift

# Chromium at phone size, from the merchant page's tests.
browser = merchant_page.browser
page = merchant_page.page
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "member-page"


async def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def sign_in(page: Any, username: str) -> None:
    from tests.conftest import PASSWORD

    await page.goto("/member/")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in-form button[type=submit]")


async def member_with_points(community: Community, unit: str, points: int) -> dict[str, Any]:
    member = await community.member(unit, name="王小红", login=True)
    assert (await community.adjust(member["id"], points, "志愿服务奖励")).status_code == 201
    return member


async def test_a_member_sees_balance_and_history_in_chinese_then_english(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    member = await member_with_points(community, unit, 120)
    csp_errors: list[str] = []
    page.on("console", lambda message: csp_errors.append(message.text) if "Content Security" in message.text else None)

    await sign_in(page, member["username"])

    await expect(page.locator("#available")).to_have_text("120")
    await expect(page.locator("#greeting")).to_contain_text("王小红，您好")
    await expect(page.locator("#history li").first).to_contain_text("志愿服务奖励")
    await expect(page.locator("#history li").first).to_contain_text("+120")
    await expect(page.locator("#rank")).to_contain_text("排名第 1 位")
    await fits_the_phone(page)
    await screenshot(page, "01-home-zh")

    await page.click("#language")
    await expect(page.locator("#greeting")).to_contain_text("Hello, 王小红")
    await expect(page.locator("[data-tab=rewards]")).to_have_text("Rewards")
    await page.reload()
    await expect(page.locator("#available")).to_have_text("120")
    await expect(page.locator("[data-tab=rewards]")).to_have_text("Rewards")
    await screenshot(page, "02-home-en-after-reload")
    assert csp_errors == []


async def test_a_member_redeems_sees_the_code_and_qr_then_cancels_and_gets_the_points_back(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    member = await member_with_points(community, unit, 50)
    await shop(community, unit, stock=3, points_price=20)

    await sign_in(page, member["username"])
    await page.click("[data-tab=rewards]")
    reward = page.locator("#catalogue li").first
    await expect(reward).to_contain_text("大米5斤")
    await expect(reward).to_contain_text("红星超市")
    await expect(reward).to_contain_text("剩余 3")
    await fits_the_phone(page)
    await reward.locator("button").click()

    dialog = page.locator("#code-dialog")
    await expect(dialog).to_be_visible()
    code = (await page.locator("#code-text").text_content() or "").strip()
    assert len(code) == 9 and code[4] == "-", code
    qr = page.locator("#code-qr")
    await expect(qr).to_have_attribute("src", re.compile(r"^/member/redemptions/[0-9a-f-]+/qr\.svg$"))
    await page.wait_for_function(
        "() => { const qr = document.getElementById('code-qr'); return qr.complete && qr.naturalWidth > 0; }"
    )
    await screenshot(page, "03-code")
    await dialog.locator("button").click()

    await expect(page.locator("#redemptions li").first).to_contain_text(code)
    await screenshot(page, "03b-my-codes")
    await page.locator("#redemptions li").first.locator("button.secondary").click()
    await expect(page.locator("#message")).to_contain_text("已取消，积分已退回")
    await page.click("[data-tab=home]")
    await expect(page.locator("#available")).to_have_text("50")
    await screenshot(page, "04-cancelled")


async def test_a_redemption_without_enough_points_says_so_in_chinese(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    member = await member_with_points(community, unit, 5)
    await shop(community, unit, points_price=20)

    await sign_in(page, member["username"])
    await page.click("[data-tab=rewards]")
    await page.locator("#catalogue li").first.locator("button").click()

    await expect(page.locator("#message")).to_have_text("积分不足，暂时不能兑换")
    await page.click("[data-tab=home]")
    await expect(page.locator("#available")).to_have_text("5")
    await screenshot(page, "05-not-enough-points")


async def test_a_member_signs_up_and_checks_in_with_the_organisers_code(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    member = await member_with_points(community, unit, 1)
    rule = await community.rule(points=5)
    activity = await create_activity(community.admin, unit, rule, starts_in=5, title="清洁家园")

    await sign_in(page, member["username"])
    await page.click("[data-tab=activities]")
    row = page.locator(f"#activity-list li[data-activity='{activity['id']}']")
    await expect(row).to_contain_text("清洁家园")
    await row.locator("button").click()
    await expect(page.locator("#message")).to_have_text("报名成功")

    await row.locator("text=去签到").click()
    await page.fill("#check-in-code", "WRONGCODE")
    await page.click("#check-in")
    await expect(page.locator("#message")).to_contain_text("签到码不对或已过期")
    await page.fill("#check-in-code", (await current_token(community.admin, activity["id"])).lower())
    await page.click("#check-in")
    await expect(page.locator("#message")).to_have_text("签到成功。工作人员确认考勤后，积分会发到您的账户")
    await page.click("[data-tab=activities]")
    await expect(row).to_contain_text("签到成功")
    await fits_the_phone(page)
    await screenshot(page, "06-checked-in")


async def test_a_post_holder_checks_in_and_out_of_a_shift_and_sees_the_points(
    community: Community, page: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, unit, rule)
    member, _ = await holder(community, unit, post, "王小红")
    shift = await one_shift(community.admin, post, member["id"], -3, 1)

    await sign_in(page, member["username"])
    await page.click("[data-tab=activities]")
    row = page.locator(f"#shift-list li[data-shift='{shift}']")
    await expect(row).to_contain_text("文明监督岗")
    await row.locator("button").click()
    await expect(page.locator("#message")).to_have_text("签到成功")
    await expect(row.locator("button")).to_have_text("签退")

    await backdate_check_in(sessions, shift, 2)  # two hours on duty pass
    await row.locator("button").click()
    await expect(page.locator("#message")).to_have_text("签退成功, 获得 20 积分")
    await expect(row).to_contain_text("已完成 2 小时")
    await fits_the_phone(page)
    await screenshot(page, "07-shift-checked-out")


async def test_a_clerk_or_staff_login_is_turned_away(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    clerk, _, _ = await shop(community, unit)
    username = (await clerk.get("/api/v1/me")).json()["username"]

    await sign_in(page, username)

    await expect(page.locator("#message")).to_contain_text("此页面供党员群众使用")
    await expect(page.locator("#sign-in")).to_be_visible()
    await screenshot(page, "08-clerk-turned-away")


async def test_the_page_is_served_with_its_security_headers(served: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=served.base_url) as client:
        response = await client.get("/member/")
        without_slash = await client.get("/member")

    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in response.headers["cache-control"]
    assert without_slash.status_code == 200 and 'id="sign-in-form"' in without_slash.text
