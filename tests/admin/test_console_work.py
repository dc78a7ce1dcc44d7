"""The console's pages for posts, micro-wishes and problem reports, and the daily warnings on the
warnings page, in a real browser (Debian's chromium through Playwright, as tests/admin/test_console.py);
scoping, CSRF and the English pages over plain HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.warnings.daily import DailyWarnings
from points_service.tenancy.periods import TenantClock
from tests.admin.test_console import CSRF_FIELD, browser, desk, screenshot, sign_in, staff_login
from tests.conftest import PASSWORD, Community, ServedApp
from tests.merchants.test_merchant_page import PHONE
from tests.points_service.test_activities import member_phone
from tests.points_service.test_duty import create_post, holder, one_shift
from tests.points_service.test_reports import report
from tests.points_service.test_wishes import post_wish

__all__ = ["browser", "desk"]  # the browser fixtures, shared with the console's other tests


async def two_areas(community: Community) -> tuple[str, str, str]:
    root = await community.org_unit("红旗社区")
    east = await community.org_unit("东区", "area", root)
    west = await community.org_unit("西区", "area", root)
    return root, east, west


async def signed_in_web(served: ServedApp, username: str) -> httpx.AsyncClient:
    web = httpx.AsyncClient(base_url=served.base_url, timeout=60)
    token = CSRF_FIELD.search((await web.get("/admin/login")).text).group(1)  # type: ignore[union-attr]
    signed_in = await web.post("/admin/login", data={"username": username, "password": PASSWORD, "_csrf_token": token})
    assert signed_in.status_code == 303, signed_in.text
    return web


async def test_staff_see_only_their_subtrees_posts_and_approve_a_claim(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    _, east, west = await two_areas(community)
    rule = await community.rule(points=10, category="duty", unit="hour")
    watch = await create_post(community.admin, east, rule, "文明监督岗")
    await create_post(community.admin, west, rule, "环境卫生岗")
    _, phone = await member_phone(community, east, "李认领")
    claim = (await phone.post(f"/api/v1/posts/{watch['id']}/claims")).json()
    await sign_in(desk, await staff_login(community, east))

    await desk.click("nav a[href='/admin/posts']")
    await expect(desk.locator("#posts tbody tr")).to_have_count(1)
    await expect(desk.locator("#posts tbody tr")).to_contain_text("文明监督岗")
    await desk.click(f"#posts a[href='/admin/posts/{watch['id']}']")
    await desk.click(f"#claims tr[data-claim='{claim['id']}'] button.approve")

    await expect(desk.locator(f"#claims tr[data-claim='{claim['id']}']")).to_contain_text("在岗")
    holders = (await community.admin.get(f"/api/v1/posts/{watch['id']}/holders")).json()["items"]
    assert [(item["name"], item["status"]) for item in holders] == [("李认领", "approved")]
    await screenshot(desk, "07-post-approved")


async def test_a_post_page_shows_a_missed_shift_and_the_holders_attendance(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, unit, rule, "安全信息岗")
    member, _ = await holder(community, unit, post, "周缺岗")
    await one_shift(community.admin, post, member["id"], -30, -28)
    await one_shift(community.admin, post, member["id"], 24, 26)
    await sign_in(desk, await staff_login(community, unit))

    await desk.goto(f"/admin/posts/{post['id']}")

    await expect(desk.locator("#shifts tbody tr")).to_have_count(2)
    await expect(desk.locator("#shifts tr.shift-missed")).to_contain_text("缺岗")
    await expect(desk.locator("#shifts tr.shift-scheduled")).to_contain_text("待值守")
    await expect(desk.locator("#attendance tbody tr")).to_contain_text("周缺岗")
    await expect(desk.locator("#attendance tbody tr td.num").nth(2)).to_have_text("0%")
    await screenshot(desk, "08-post-shifts")


async def test_closed_posts_are_left_out_of_the_open_filter(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=10, category="duty", unit="hour")
    await create_post(community.admin, unit, rule, "便民服务岗")
    closed = await create_post(community.admin, unit, rule, "移风易俗岗")
    assert (await community.admin.patch(f"/api/v1/posts/{closed['id']}", json={"active": False})).status_code == 200
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        open_only = await web.get("/admin/posts", params={"status": "active"})
        closed_only = await web.get("/admin/posts", params={"status": "closed"})
    finally:
        await web.aclose()

    assert "便民服务岗" in open_only.text and "移风易俗岗" not in open_only.text
    assert "移风易俗岗" in closed_only.text and "便民服务岗" not in closed_only.text


async def test_staff_verify_a_fulfilled_wish_and_the_claimant_is_paid(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=30, category="wish")
    wish = await post_wish(community.admin, unit, rule_code=rule)
    await post_wish(community.admin, unit, title="陪同就医")
    member, phone = await member_phone(community, unit, "孙帮忙")
    assert (await phone.post(f"/api/v1/wishes/{wish['id']}/claim")).status_code == 200
    assert (await phone.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"note": "换了新轮胎"})).status_code == 200
    await sign_in(desk, await staff_login(community, unit))

    await desk.click("nav a[href='/admin/wishes']")
    await desk.select_option("#status", "fulfilled")
    await desk.click("#filter button[type=submit]")
    row = desk.locator(f"#wishes tr[data-wish='{wish['id']}']")
    await expect(desk.locator("#wishes tbody tr")).to_have_count(1)
    await expect(row.locator(".resident")).to_have_text("王**")
    await expect(row.locator(".claimant")).to_have_text("孙帮忙")
    await row.locator("form.verify button").click()

    await desk.select_option("#status", "")
    await desk.click("#filter button[type=submit]")
    await expect(desk.locator(f"#wishes tr[data-wish='{wish['id']}'] .status")).to_have_text("已核实")
    assert (await community.balance(member))["available"] == 30
    await screenshot(desk, "09-wish-verified")


async def test_staff_accept_a_report_and_see_the_counts_of_their_subtree(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    _, east, west = await two_areas(community)
    _, reporter = await member_phone(community, east, "吴上报")
    _, elsewhere = await member_phone(community, west, "郑西区")
    filed = await report(reporter, "dispute", place="5号楼楼道")
    await report(elsewhere, "hazard", place="西区车棚")
    await sign_in(desk, await staff_login(community, east))

    await desk.click("nav a[href='/admin/reports']")
    await expect(desk.locator("#reports tbody tr")).to_have_count(1)
    await expect(desk.locator("#reports tbody tr")).to_contain_text("5号楼楼道")
    await expect(desk.locator("#stats [data-stat='collected'] dd")).to_have_text("1")
    await expect(desk.locator("#stats [data-stat='disputes'] dd")).to_have_text("1")
    await desk.locator(f"#reports tr[data-report='{filed['id']}'] form.accept button").click()

    await expect(desk.locator(f"#reports tr[data-report='{filed['id']}'] .status")).to_have_text("已受理")
    assert (await community.admin.get(f"/api/v1/reports/{filed['id']}")).json()["status"] == "accepted"
    await screenshot(desk, "10-report-accepted")


async def test_staff_escalate_a_report_and_it_is_decided_above_them(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    root, east, _ = await two_areas(community)
    _, reporter = await member_phone(community, east, "吴上报")
    filed = await report(reporter, "hazard")
    await sign_in(desk, await staff_login(community, east))
    await desk.goto("/admin/reports")

    await desk.locator(f"#reports tr[data-report='{filed['id']}'] form.escalate button").click()

    row = desk.locator(f"#reports tr[data-report='{filed['id']}']")
    await expect(row.locator(".handling")).to_have_text("红旗社区")
    await expect(row).to_contain_text("已由上级办理")
    assert (await community.admin.get(f"/api/v1/reports/{filed['id']}")).json()["handling_unit_id"] == root


async def test_staff_of_another_subtree_get_404_and_see_none_of_its_work(
    community: Community, served: ServedApp
) -> None:
    _, east, west = await two_areas(community)
    rule = await community.rule(points=10, category="duty", unit="hour")
    west_post = await create_post(community.admin, west, rule, "环境卫生岗")
    await post_wish(community.admin, west, title="西区的心愿")
    _, elsewhere = await member_phone(community, west, "郑西区")
    await report(elsewhere, "hazard", place="西区车棚")
    web = await signed_in_web(served, await staff_login(community, east))
    try:
        post_page = await web.get(f"/admin/posts/{west_post['id']}")
        wishes_of_west = await web.get("/admin/wishes", params={"unit": west})
        wishes = await web.get("/admin/wishes")
        reports = await web.get("/admin/reports")
        posts = await web.get("/admin/posts")
    finally:
        await web.aclose()

    assert post_page.status_code == 404 and wishes_of_west.status_code == 404
    assert "西区的心愿" not in wishes.text
    assert "西区车棚" not in reports.text
    assert "环境卫生岗" not in posts.text


async def test_a_claim_approved_without_the_csrf_token_is_refused(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, unit, rule)
    _, phone = await member_phone(community, unit, "李认领")
    claim = (await phone.post(f"/api/v1/posts/{post['id']}/claims")).json()
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        forged = await web.post(f"/admin/post-claims/{claim['id']}/approve")
    finally:
        await web.aclose()

    assert forged.status_code == 403
    holders = (await community.admin.get(f"/api/v1/posts/{post['id']}/holders")).json()["items"]
    assert [item["status"] for item in holders] == ["pending"]


@pytest.mark.parametrize("path", ["/admin/posts", "/admin/wishes", "/admin/reports"])
async def test_the_work_pages_read_in_english(community: Community, served: ServedApp, path: str) -> None:
    unit = await community.org_unit("红旗社区")
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        page = await web.get(path, params={"lang": "en"})
    finally:
        await web.aclose()

    assert page.status_code == 200
    assert ">Posts</a>" in page.text and ">Micro-wishes</a>" in page.text and ">Problem reports</a>" in page.text
    assert "Any status" in page.text


async def test_the_reports_page_fits_a_phone(community: Community, browser: Any, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    _, reporter = await member_phone(community, unit, "吴上报")
    await report(reporter, "facility", place="3号楼东侧的路灯和旁边的长椅")
    context = await browser.new_context(viewport=PHONE, base_url=served.base_url, locale="zh-CN")
    try:
        page = await context.new_page()
        await sign_in(page, await staff_login(community, unit))
        await page.goto("/admin/reports")
        await page.wait_for_selector("#reports tbody tr")

        width = await page.evaluate("document.documentElement.scrollWidth")
        await screenshot(page, "11-reports-phone")
    finally:
        await context.close()

    assert width <= PHONE["width"]


async def test_the_warnings_page_shows_the_latest_daily_run(
    community: Community, desk: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.member(unit, name="钱七")
    day = TenantClock("Asia/Shanghai").today()
    async with sessions() as session, session.begin():
        await DailyWarnings(session, community.tenant_id).run_day(day)
    await sign_in(desk, await staff_login(community, unit))

    await desk.click("nav a[href='/admin/warnings']")

    await expect(desk.locator("#daily-ran")).to_contain_text(day.isoformat())
    await expect(desk.locator("#daily section.warning[data-kind='inactive_members'] .count")).to_have_text("1 项")
    await expect(desk.locator("#on-demand section.warning[data-kind='inactive_members'] .count")).to_have_text("1 项")
    await screenshot(desk, "12-daily-warnings")


async def test_a_unit_chosen_in_the_filter_narrows_the_list_to_its_subtree(
    community: Community, served: ServedApp
) -> None:
    root, east, west = await two_areas(community)
    await post_wish(community.admin, east, title="东区的心愿")
    await post_wish(community.admin, west, title="西区的心愿")
    web = await signed_in_web(served, await staff_login(community, root))
    try:
        everything = await web.get("/admin/wishes")
        east_only = await web.get("/admin/wishes", params={"unit": east, "status": ""})
    finally:
        await web.aclose()

    assert "东区的心愿" in everything.text and "西区的心愿" in everything.text
    assert "东区的心愿" in east_only.text and "西区的心愿" not in east_only.text


@pytest.mark.parametrize("path", ["/admin/posts", "/admin/wishes", "/admin/reports"])
async def test_an_admin_opens_the_work_pages_over_the_whole_tenant(
    community: Community, served: ServedApp, path: str
) -> None:
    _, east, west = await two_areas(community)
    _, reporter = await member_phone(community, east, "吴上报")
    _, elsewhere = await member_phone(community, west, "郑西区")
    await report(reporter, "hazard", place="东区车棚")
    await report(elsewhere, "hazard", place="西区车棚")
    web = await signed_in_web(served, community.admin_username)
    try:
        page = await web.get(path)
    finally:
        await web.aclose()

    assert page.status_code == 200
    if path == "/admin/reports":
        assert "东区车棚" in page.text and "西区车棚" in page.text


async def test_a_unit_chosen_in_the_filter_narrows_the_posts_to_its_subtree(
    community: Community, served: ServedApp
) -> None:
    root, east, west = await two_areas(community)
    rule = await community.rule(points=10, category="duty", unit="hour")
    await create_post(community.admin, east, rule, "文明监督岗")
    await create_post(community.admin, west, rule, "环境卫生岗")
    web = await signed_in_web(served, await staff_login(community, root))
    try:
        east_only = await web.get("/admin/posts", params={"unit": east, "status": "active"})
    finally:
        await web.aclose()

    assert "文明监督岗" in east_only.text and "环境卫生岗" not in east_only.text
