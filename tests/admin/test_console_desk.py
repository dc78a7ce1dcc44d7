"""The console's desk work in a real browser (Debian's chromium through Playwright, as
tests/admin/test_console.py): a post created with weekly shifts that its holder sees on their phone; a
shop that applied from its link approved from the approvals queue and its clerk fulfilling a code; a
warning opened to a named member. Over plain HTTP: the approvals queue with shop applications, refusing
and suspending a shop, posting a wish, appointing a proxy and reading what they did."""

from __future__ import annotations

from typing import Any

import httpx

from tests.admin.test_console import browser, desk, screenshot, sign_in, staff_login
from tests.admin.test_console_work import signed_in_web
from tests.conftest import PASSWORD, Community, ServedApp, unique
from tests.merchants.test_merchant_page import PHONE, fits_the_phone
from tests.merchants.test_redemptions import member_with_points, redeem

__all__ = ["browser", "desk"]


async def phone_page(browser: Any, served: ServedApp) -> Any:
    context = await browser.new_context(
        viewport=PHONE, base_url=served.base_url, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    return await context.new_page()


async def apply_on_the_page(page: Any, unit: str, name: str) -> str:
    """A shop files its application through /merchant/apply/<unit>; returns its clerk's username."""
    from playwright.async_api import expect

    username = unique("shop")
    await page.goto(f"/merchant/apply/{unit}")
    await page.fill("#name", name)
    await page.fill("#address", "幸福路8号")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#applied")).to_contain_text(name)
    return username


# -- in the browser ---------------------------------------------------------------------------------


async def test_a_post_created_with_weekly_shifts_shows_them_on_the_holders_phone(
    community: Community, desk: Any, browser: Any, served: ServedApp
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.rule(points=10, category="duty", unit="hour", name="岗位值守(每小时)")
    member = await community.member(unit, name="李值守", login=True)
    await sign_in(desk, await staff_login(community, unit))

    await desk.click("nav a[href='/admin/posts']")
    await expect(desk.locator("#posts")).to_have_count(0)
    await expect(desk.locator("main .empty")).to_contain_text("新建岗位")
    await desk.select_option("#post-unit", unit)
    await desk.fill("#post-title", "文明监督岗")
    await desk.fill("#post-duty", "劝导不文明行为")
    await desk.click("#new-post button[type=submit]")
    await expect(desk.locator("#post_created")).to_be_visible()
    await expect(desk.locator("#post-name")).to_contain_text("文明监督岗")
    # The rule by its name, never its code.
    await expect(desk.locator("main")).to_contain_text("岗位值守(每小时)")

    await desk.select_option("#holder-form select[name=member_id]", member["id"])
    await desk.click("#holder-form button[type=submit]")
    await expect(desk.locator("#holder_set")).to_be_visible()
    await expect(desk.locator("#claims")).to_contain_text("李值守")
    await expect(desk.locator("#claims")).to_contain_text("在岗")

    await desk.fill("#shift-start", "18:00")
    await desk.fill("#shift-end", "20:00")
    await desk.fill("#shift-weeks", "2")
    await desk.click("#weekly-shifts button[type=submit]")
    await expect(desk.locator("#shifts_scheduled")).to_contain_text("2")
    await expect(desk.locator("#shifts tbody tr")).to_have_count(2)
    await screenshot(desk, "20-post-with-shifts")

    phone = await phone_page(browser, served)
    try:
        await phone.goto("/member/")
        await phone.fill("#username", member["username"])
        await phone.fill("#password", PASSWORD)
        await phone.click("#sign-in-form button[type=submit]")
        await phone.goto("/member/activities")
        await expect(phone.locator("#shift-list li[data-shift]")).to_have_count(2)
        await expect(phone.locator("#shift-list li[data-shift]").first).to_contain_text("文明监督岗")
        await fits_the_phone(phone)
    finally:
        await phone.context.close()

    await desk.click("#claims button.release")
    await expect(desk.locator("#holder_released")).to_be_visible()
    await expect(desk.locator("#claims")).to_have_count(0)
    await desk.click("main .actions button.secondary")
    await expect(desk.locator("#post_closed")).to_be_visible()
    await expect(desk.locator("#post-name")).to_contain_text("已关闭")


async def test_a_shop_that_applied_is_approved_from_the_queue_and_its_clerk_fulfils_a_code(
    community: Community, desk: Any, browser: Any, served: ServedApp
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await sign_in(desk, await staff_login(community, unit))
    await desk.click("nav a[href='/admin/shops']")
    await expect(desk.locator("#no-applications")).to_be_visible()
    await desk.click("#invite-link")
    await expect(desk.locator("#invite-url")).to_contain_text(f"/merchant/apply/{unit}")
    await expect(desk.locator("#invite-qr svg")).to_have_count(1)
    await screenshot(desk, "21-shop-invitation")

    phone = await phone_page(browser, served)
    try:
        clerk_username = await apply_on_the_page(phone, unit, "幸福小卖部")

        await desk.click("nav a[href='/admin/approvals']")
        application = desk.locator("#approvals tr[data-kind='shop_application']")
        await expect(application).to_contain_text("幸福小卖部")
        await expect(application).to_contain_text("商户入驻申请")
        await screenshot(desk, "23-approvals")
        await application.locator("button.approve-shop").click()
        await expect(desk.locator("#shop_approved")).to_be_visible()
        await expect(desk.locator("#no-approvals")).to_be_visible()
        await desk.click("nav a[href='/admin/shops']")
        await expect(desk.locator("#shops tr.shop-active")).to_contain_text("幸福小卖部")

        clerk = await community.client_for(clerk_username)
        reward = await clerk.post("/api/v1/merchant/rewards", json={"title": "酱油", "points_price": 10})
        assert reward.status_code == 201, reward.text
        _, member_phone = await member_with_points(community, unit, 50)
        code = (await redeem(member_phone, reward.json()["id"]))["code"]

        await phone.goto("/merchant/")
        await phone.fill("#username", clerk_username)
        await phone.fill("#password", PASSWORD)
        await phone.click("button[type=submit]")
        await expect(phone.locator("#code")).to_be_visible()
        await expect(phone.locator("main")).not_to_contain_text("等待社区审核")
        await phone.fill("#code", code)
        await phone.click("#look-up")
        await phone.click("#confirm")
        await expect(phone.locator("#done")).to_contain_text("酱油")
    finally:
        await phone.context.close()


async def test_a_warning_lists_its_members_by_name_with_a_link_to_each(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    quiet = await community.member(unit, name="赵沉默")
    await sign_in(desk, await staff_login(community, unit))

    await desk.click("nav a[href='/admin/warnings']")
    card = desk.locator("#on-demand section[data-kind='inactive_members']")
    await card.locator("details.named summary").click()
    link = card.locator(f"li[data-member='{quiet['id']}'] a")
    await expect(link).to_have_text("赵沉默")
    await expect(link).to_have_attribute("href", f"/admin/members/{quiet['id']}")
    await link.click()
    await expect(desk).to_have_url(f"{desk.url.split('/admin/')[0]}/admin/members/{quiet['id']}")

    # The desk's pages stay readable on a phone: nothing scrolls the whole page sideways.
    await desk.set_viewport_size(PHONE)
    for path in ("/admin/approvals", "/admin/shops", "/admin/shops/invite", "/admin/posts", "/admin/proxies"):
        await desk.goto(path)
        await fits_the_phone(desk)
    await screenshot(desk, "22-proxies-at-360")


# -- over HTTP --------------------------------------------------------------------------------------


async def apply(community: Community, unit: str, name: str) -> dict[str, Any]:
    body = {"name": name, "address": "幸福路8号", "org_unit_id": unit, "username": unique("shop"), "password": PASSWORD}
    response = await community.anonymous.post("/api/v1/merchant-applications", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def form_post(web: httpx.AsyncClient, page: str, action: str, **fields: str) -> httpx.Response:
    """Submit a console form as a browser does: the token from the page it is on, then follow back."""
    from tests.admin.test_console import CSRF_FIELD

    token = CSRF_FIELD.search((await web.get(page)).text).group(1)  # type: ignore[union-attr]
    return await web.post(action, data={"_csrf_token": token, "back": page, **fields}, follow_redirects=True)


async def test_the_approvals_queue_lists_shop_applications_of_the_callers_subtree_only(
    community: Community, served: ServedApp
) -> None:
    root = await community.org_unit("红旗社区")
    east = await community.org_unit("东区", "area", root)
    west = await community.org_unit("西区", "area", root)
    in_east = await apply(community, east, "东区小卖部")
    in_west = await apply(community, west, "西区理发店")
    east_staff = await community.staff(east)

    for_admin = (await community.admin.get("/api/v1/admin/approvals", params={"kind": "shop_application"})).json()
    for_east = (await east_staff.get("/api/v1/admin/approvals", params={"kind": "shop_application"})).json()

    assert [item["id"] for item in for_admin["items"]] == [in_east["id"], in_west["id"]]
    assert [item["id"] for item in for_east["items"]] == [in_east["id"]]
    assert for_east["items"][0]["link"] == f"/api/v1/admin/merchants/{in_east['id']}"
    assert "东区小卖部" in for_east["items"][0]["summary"]
    web = await signed_in_web(served, await staff_login(community, east))
    try:
        page = await web.get("/admin/approvals")
        refused_elsewhere = await form_post(web, "/admin/approvals", f"/admin/shops/{in_west['id']}/approve")
    finally:
        await web.aclose()
    assert "东区小卖部" in page.text and "西区理发店" not in page.text
    assert "shop_application" not in page.text.split('data-kind="shop_application"', 1)[1].split("</tr>")[0]
    assert "商户入驻申请" in page.text
    assert 'id="error"' in refused_elsewhere.text
    west_now = await community.admin.get(f"/api/v1/admin/merchants/{in_west['id']}")
    assert west_now.json()["status"] == "pending"


async def test_staff_refuse_with_a_reason_then_suspend_and_reactivate_a_shop(
    community: Community, served: ServedApp
) -> None:
    unit = await community.org_unit("红旗社区")
    refused = await apply(community, unit, "无证摊位")
    approved = await apply(community, unit, "幸福小卖部")
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        without_reason = await form_post(web, "/admin/shops", f"/admin/shops/{refused['id']}/refuse", reason=" ")
        with_reason = await form_post(web, "/admin/shops", f"/admin/shops/{refused['id']}/refuse", reason="证照不全")
        approving = await form_post(web, "/admin/approvals", f"/admin/shops/{approved['id']}/approve")
        again = await form_post(web, "/admin/shops", f"/admin/shops/{approved['id']}/approve")
        suspended = await form_post(web, "/admin/shops", f"/admin/shops/{approved['id']}/suspend", reason="投诉核查")
        reactivated = await form_post(web, "/admin/shops", f"/admin/shops/{approved['id']}/reactivate")
        queue = await web.get("/admin/approvals")
    finally:
        await web.aclose()

    assert 'id="error"' in without_reason.text
    assert 'id="shop_refused"' in with_reason.text and "证照不全" in with_reason.text
    assert 'id="shop_approved"' in approving.text and str(approving.url).endswith("/admin/approvals")
    assert "商户当前的状态不能这样操作" in again.text
    assert 'id="shop_suspended"' in suspended.text and "投诉核查" in suspended.text
    assert 'id="shop_reactivated"' in reactivated.text
    assert 'id="no-approvals"' in queue.text
    statuses = {
        item["name"]: item["status"] for item in (await community.admin.get("/api/v1/admin/merchants")).json()["items"]
    }
    assert statuses == {"无证摊位": "refused", "幸福小卖部": "active"}


async def test_the_approvals_page_names_each_kind_in_words_and_its_actions_answer(
    community: Community, served: ServedApp
) -> None:
    from tests.points_service.test_duty import create_post
    from tests.points_service.test_wishes import post_wish

    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, unit, rule, "环境卫生岗")
    member, phone = await member_with_points(community, unit, 0, name="钱认领")
    claim = (await phone.post(f"/api/v1/posts/{post['id']}/claims")).json()
    await post_wish(community.admin, unit)
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        page = await web.get("/admin/approvals")
        approved = await form_post(web, "/admin/approvals", f"/admin/post-claims/{claim['id']}/approve")
    finally:
        await web.aclose()

    assert "岗位认领" in page.text and "post_claim" not in page.text.replace('data-kind="post_claim"', "")
    assert f'href="/admin/members/{member["id"]}"' in page.text
    assert 'id="approve_done"' in approved.text and str(approved.url).endswith("/admin/approvals")
    assert 'id="no-approvals"' in approved.text


async def test_staff_post_a_wish_for_a_resident_and_appoint_a_proxy_whose_acts_are_listed(
    community: Community, served: ServedApp
) -> None:
    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=30, category="wish")
    elder = await community.member(unit, name="孙奶奶")
    proxy, proxy_phone = await member_with_points(community, unit, 0, name="周代办")
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        empty = await web.get("/admin/proxies")
        wish = await form_post(
            web,
            "/admin/wishes",
            "/admin/wishes/",
            org_unit_id=unit,
            title="帮忙买药",
            resident_name="孙奶奶",
            rule_code=rule,
        )
        appointed = await form_post(
            web,
            "/admin/proxies",
            "/admin/proxies/",
            proxy_member_id=proxy["id"],
            target="member",
            member_id=elder["id"],
        )
        filed = await proxy_phone.post(
            "/api/v1/reports",
            json={"category": "hazard", "place": "3号楼楼道", "description": "堆放杂物", "member_id": elder["id"]},
        )
        assert filed.status_code == 201, filed.text
        listed = await web.get("/admin/proxies")
        [appointment] = (await community.admin.get("/api/v1/proxies")).json()["items"]
        removed = await form_post(web, "/admin/proxies", f"/admin/proxies/{appointment['id']}/remove")
    finally:
        await web.aclose()

    assert 'id="no-proxies"' in empty.text and 'id="no-proxy-acts"' in empty.text
    assert 'id="wish_posted"' in wish.text and "帮忙买药" in wish.text
    assert 'id="proxy_appointed"' in appointed.text
    assert "周代办" in listed.text and "代为民情上报" in listed.text and "3号楼楼道" in listed.text
    assert f'href="/admin/members/{elder["id"]}"' in listed.text
    assert 'id="proxy_removed"' in removed.text and 'id="no-proxies"' in removed.text


async def test_the_approvals_page_pays_a_claim_and_links_an_ended_activity_without_raw_codes(
    community: Community, served: ServedApp
) -> None:
    from tests.points_service.test_activities import create_activity
    from tests.points_service.test_claims import file_claim

    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=5, requires_approval=True, name="参加组织生活会")
    member, phone = await member_with_points(community, unit, 0, name="吴申请")
    claim = await file_claim(phone, rule, note="十一月")
    ended = await create_activity(community.admin, unit, await community.rule(), starts_in=-120, lasts=60)
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        page = await web.get("/admin/approvals")
        paid = await form_post(web, "/admin/approvals", f"/admin/claims/{claim['id']}/approve")
        twice = await form_post(web, "/admin/approvals", f"/admin/claims/{claim['id']}/approve")
    finally:
        await web.aclose()

    assert "积分申请" in page.text and "参加组织生活会" in page.text and rule not in page.text
    assert "活动待确认出勤" in page.text and f'href="/admin/activities/{ended["id"]}"' in page.text
    assert 'id="approve_done"' in paid.text and f'data-item="{claim["id"]}"' not in paid.text
    assert 'id="error"' in twice.text
    assert (await community.balance(member))["available"] == 5


async def test_the_seven_standing_posts_are_created_once(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=10, category="duty", unit="hour")
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        first = await form_post(web, "/admin/posts", "/admin/posts/seven", org_unit_id=unit, rule_code=rule)
        again = await form_post(web, "/admin/posts", "/admin/posts/seven", org_unit_id=unit, rule_code=rule)
    finally:
        await web.aclose()

    assert "已创建 7 个岗位" in first.text and "已创建 0 个岗位" in again.text
    posts = (await community.admin.get("/api/v1/posts")).json()["items"]
    assert sorted(post["name"] for post in posts) == sorted(
        ["文明监督岗", "民事调解岗", "环境卫生岗", "安全信息岗", "便民服务岗", "敲门问帮岗", "移风易俗岗"]
    )


async def test_setting_a_holder_who_already_claimed_says_so(community: Community, served: ServedApp) -> None:
    from tests.points_service.test_duty import create_post

    unit = await community.org_unit("红旗社区")
    post = await create_post(community.admin, unit, await community.rule(category="duty"), "敲门问帮岗")
    member, phone = await member_with_points(community, unit, 0, name="郑已认领")
    assert (await phone.post(f"/api/v1/posts/{post['id']}/claims")).status_code == 201
    await community.member(unit, name="冯另一位")
    page = f"/admin/posts/{post['id']}"
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        refused = await form_post(web, page, f"{page}/holders", member_id=member["id"])
        found = await web.get(page, params={"q": "另一"})
        missed = await web.get(page, params={"q": "没有此人"})
    finally:
        await web.aclose()

    assert refused.status_code == 200 and 'id="error"' in refused.text
    assert "郑已认领" in refused.text
    chooser = found.text.split('id="set-holder"', 1)[1].split("</section>", 1)[0]
    assert "冯另一位" in chooser and "郑已认领" not in chooser
    assert "没有找到这个姓名" in missed.text


async def test_the_desk_pages_speak_english_too(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    await apply(community, unit, "幸福小卖部")
    web = await signed_in_web(served, await staff_login(community, unit))
    try:
        pages = {
            path: await web.get(path, params={"lang": "en"})
            for path in ("/admin/approvals", "/admin/shops", "/admin/shops/invite", "/admin/posts", "/admin/proxies")
        }
    finally:
        await web.aclose()

    for path, answer in pages.items():
        assert answer.status_code == 200, path
        assert 'lang="en"' in answer.text, path
    assert "Shop application" in pages["/admin/approvals"].text
    assert "Applications waiting for approval" in pages["/admin/shops"].text
    assert "Create the seven standing posts" in pages["/admin/posts"].text
