"""The console's daily work in a real browser (Debian's chromium through Playwright, as the console's other
tests): staff publish an activity, open its check-in screen, a member at 360 px signs up and types the
code shown there, staff confirm attendance and the member's balance rises; an activity cancelled with a
reason the member then sees; three members awarded at once with a double-clicked confirm, each paid once.
Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

from tests.admin.test_console import browser, desk, screenshot, sign_in, staff_login
from tests.admin.test_console_points import KEY_FIELD, csrf, notice, send
from tests.admin.test_console_work import signed_in_web
from tests.conftest import Community, ServedApp
from tests.merchants.test_merchant_page import fits_the_phone, page
from tests.points_service import test_member_page as member_page
from tests.points_service.test_activities import create_activity, current_token, member_phone, sign_up

__all__ = ["browser", "desk", "page"]


async def test_staff_run_an_activity_from_the_console_and_the_member_is_paid(
    community: Community, desk: Any, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.rule(points=5)
    member, _ = await member_phone(community, unit, "王签到")
    _, absent_phone = await member_phone(community, unit, "赵缺席")
    await sign_in(desk, await staff_login(community, unit))

    # Staff publish an activity starting now (the form's own defaults: now to two hours on).
    await desk.click("nav a[href='/admin/activities']")
    await expect(desk.locator("#no-activities")).to_be_visible()
    await desk.click("#new-activity")
    await desk.fill("#title", "清洁家园")
    await desk.fill("#place", "社区广场")
    await desk.click("#activity-form button[type=submit]")
    await expect(desk.locator("#activity_created")).to_have_text("活动已发布")
    await expect(desk.locator("#activity-title")).to_contain_text("清洁家园")
    await expect(desk.locator("#no-signups")).to_be_visible()
    activity_id = desk.url.rstrip("/").rsplit("/", 1)[-1]
    assert (await sign_up(absent_phone, activity_id)).status_code == 201

    # The member signs up on the phone.
    await member_page.sign_in(page, member["username"])
    await page.click("[data-tab=activities]")
    await page.click(f"#activity-list li[data-activity='{activity_id}'] a.title")
    await page.click("#sign-up")
    await expect(page.locator("#message")).to_have_text("报名成功")

    # The screen at the door shows the QR code and the code to type; the member types it.
    await desk.goto(f"/admin/activities/{activity_id}/check-in")
    await expect(desk.locator("#qr svg")).to_be_visible()
    await expect(desk.locator("#door-count")).to_have_text("已签到 0 / 2 人")
    refresh = await desk.locator("meta[http-equiv=refresh]").get_attribute("content")
    assert refresh is not None and 2 <= int(refresh) <= 61
    code = (await desk.locator("#typed-code").inner_text()).strip()
    await screenshot(desk, "20-check-in-screen")
    assert re.fullmatch(r"\d{6}", code), code
    await page.fill("#check-in-code", code)
    await page.click("#check-in")
    await expect(page.locator("#message")).to_contain_text("签到成功")
    await fits_the_phone(page)
    await desk.reload()
    await expect(desk.locator("#door-count")).to_have_text("已签到 1 / 2 人")

    # Staff confirm everyone who checked in; the one who did not is marked absent.
    await desk.goto(f"/admin/activities/{activity_id}")
    await expect(desk.locator("#roster tr.roster-checked_in")).to_contain_text("王签到")
    await expect(desk.locator("#roster tr.roster-signed_up")).to_contain_text("赵缺席")
    await desk.click("#confirm button")
    await expect(desk.locator("#attendance_confirmed")).to_have_text("考勤已确认：1 人到场，共发放 5 分；1 人缺席")
    await expect(desk.locator("#roster tr.roster-attended")).to_contain_text("王签到")
    await expect(desk.locator("#roster tr.roster-absent")).to_contain_text("赵缺席")
    await expect(desk.locator("#confirm")).to_have_count(0)
    await screenshot(desk, "21-attendance-confirmed")

    await page.click("[data-tab=home]")
    await expect(page.locator("#available")).to_have_text("5")


async def test_a_cancelled_activity_tells_its_members_why(community: Community, desk: Any, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=5)
    activity = await create_activity(community.admin, unit, rule, starts_in=60, title="义诊")
    member, phone = await member_phone(community, unit, "钱报名")
    assert (await sign_up(phone, activity["id"])).status_code == 201
    await sign_in(desk, await staff_login(community, unit))

    await desk.goto(f"/admin/activities/{activity['id']}")
    await desk.click("text=取消活动")
    await desk.fill("#cancel-why", "下雨改期")
    await desk.click("#cancel-activity button")
    await expect(desk.locator("#activity_cancelled_done")).to_have_text("活动已取消，1 名报名者会在手机上看到取消原因")
    await expect(desk.locator("#cancel-reason")).to_have_text("活动已取消：下雨改期")

    await member_page.sign_in(page, member["username"])
    await page.click("[data-tab=activities]")
    await expect(page.locator(f"#activity-list li[data-activity='{activity['id']}']")).to_contain_text(
        "活动已取消：下雨改期"
    )
    again = await phone.post(f"/api/v1/activities/{activity['id']}/signups/cancel")
    assert again.status_code == 200  # a member may still take their name off
    assert (await sign_up(phone, activity["id"])).json()["code"] == "activity_cancelled"


async def test_three_members_awarded_with_a_double_click_are_each_paid_once(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.rule(points=10)
    people = [await community.member(unit, name=name) for name in ("孙一", "孙二", "孙三")]
    await community.member(unit, name="周不选")
    await sign_in(desk, await staff_login(community, unit))

    await desk.click("nav a[href='/admin/points']")
    await desk.fill("#q", "孙")
    await desk.click("#member-search button")
    await expect(desk.locator("#members tbody tr")).to_have_count(3)
    await screenshot(desk, "22-award-pick")
    for person in people:
        await desk.check(f"#pick-{person['id']}")
    await desk.fill("#note", "扫雪")
    await desk.click("#award-form button[type=submit]")
    await expect(desk.locator("#preview tbody tr")).to_have_count(3)
    await expect(desk.locator("#preview-summary")).to_contain_text("共 3 人，合计 30 分")
    await screenshot(desk, "22-award-preview")

    # Chromium itself sends a double-clicked form once; the same form is also sent alongside the click,
    # as a browser without that guard (or a retry on a slow network) would: both carry the form's key.
    fields = await desk.locator("#confirm-award input").evaluate_all(
        "inputs => inputs.map(input => [input.name, input.value])"
    )
    body = "&".join(f"{quote(name)}={quote(value)}" for name, value in fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _, resent = await asyncio.gather(
        desk.locator("#confirm-award button").dblclick(),
        desk.request.post("/admin/points/award", data=body, headers=headers),
    )
    said = re.compile("^(已发放：3 人，共 30 分|这张表已经提交过：3 人共 30 分只发放了一次，没有重复发放)$")
    await expect(desk.locator("p.notice")).to_have_text(said)
    assert resent.ok and said.search(
        re.sub(r".*<p class=\"notice\"[^>]*>([^<]*)</p>.*", r"\1", await resent.text(), flags=re.S)
    )
    for person in people:
        assert [line["amount"] for line in await community.ledger(person["id"])] == [10]
    await screenshot(desk, "23-awarded")


async def test_the_points_rules_and_activity_screens_fit_a_360px_phone(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=5, daily_cap=20)
    member = await community.member(unit, name="吴手机")
    assert (await community.award(member["id"], rule)).status_code == 201
    activity = await create_activity(community.admin, unit, rule, starts_in=-5, title="敬老院探访")
    await sign_in(page, community.admin_username)

    screens = [
        ("/admin/points", "#members"),
        ("/admin/rules", "#rules"),
        ("/admin/activities", "#activities"),
        ("/admin/activities/new", "#activity-form"),
        (f"/admin/activities/{activity['id']}", "#no-signups"),
        (f"/admin/activities/{activity['id']}/check-in", "#typed-code"),
        (f"/admin/points/members/{member['id']}", "#lines"),
    ]
    for index, (path, shown) in enumerate(screens):
        await page.goto(path)
        await expect(page.locator(shown)).to_be_visible()
        await fits_the_phone(page)
        await screenshot(page, f"25-phone-{index}")
    await expect(page.locator("#lines")).not_to_contain_text(rule)
    await screenshot(page, "24-member-points-phone")


async def test_an_activity_is_edited_and_its_attendance_confirmed_once_over_plain_http(
    community: Community, served: ServedApp
) -> None:
    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=4)
    activity = await create_activity(community.admin, unit, rule, starts_in=-10, title="植树")
    member, phone = await member_phone(community, unit, "郑植树")
    assert (await sign_up(phone, activity["id"])).status_code == 201
    checked = await phone.post(
        f"/api/v1/activities/{activity['id']}/check-in",
        json={"token": await current_token(community.admin, activity["id"])},
    )
    assert checked.status_code == 200, checked.text
    web = await signed_in_web(served, await staff_login(community, unit))
    path = f"/admin/activities/{activity['id']}"
    shown = await web.get(path)
    form = {
        "title": "植树节",
        "starts_at": re.search(r'id="starts_at"[^>]*value="([^"]+)"', shown.text).group(1),  # type: ignore[union-attr]
        "ends_at": re.search(r'id="ends_at"[^>]*value="([^"]+)"', shown.text).group(1),  # type: ignore[union-attr]
        "place": "河堤",
        "capacity": "0",
        "rule_code": rule,
    }

    refused = await send(web, f"{path}/edit", form, csrf(shown))
    assert "填写有误" in notice(refused)
    saved = await send(web, f"{path}/edit", {**form, "capacity": "30"}, csrf(refused))
    assert notice(saved) == "活动已保存" and "植树节" in saved.text and "河堤" in saved.text
    after = (await community.admin.get(f"/api/v1/activities/{activity['id']}")).json()
    assert (after["title"], after["capacity"], after["starts_at"][:16]) == ("植树节", 30, activity["starts_at"][:16])

    key = KEY_FIELD.search(saved.text).group(1)  # type: ignore[union-attr]
    confirmed = await send(web, f"{path}/confirm", {"key": key}, csrf(saved))
    assert notice(confirmed) == "考勤已确认：1 人到场，共发放 4 分；0 人缺席"
    replayed = await send(web, f"{path}/confirm", {"key": key}, csrf(saved))
    assert notice(replayed) == "考勤已确认：1 人到场，共发放 4 分；0 人缺席"
    late = await send(web, f"{path}/confirm", {"key": "another-form"}, csrf(saved))
    assert notice(late) == "这场活动的考勤已经确认过了"
    cancelled = await send(web, f"{path}/cancel", {"reason": "太晚了"}, csrf(saved))
    assert notice(cancelled) == "这场活动的考勤已经确认过了"
    assert [line["amount"] for line in await community.ledger(member["id"])] == [4]
    await web.aclose()
