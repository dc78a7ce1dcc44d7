"""The console's account pages: in Chromium, staff find a member by pinyin initials, reset the password,
read the temporary password off the page, and the member (a second browser, at phone size) is made to
change it before seeing home; staff switch the member off and the member's next sign-in says so. Over
plain HTTP: the staff accounts page is an admin's (switch off and on, move, re-role), and shop clerks are
switched off and on from the console."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.admin.test_console import CSRF_FIELD, browser, desk, screenshot, sign_in, staff_login
from tests.admin.test_console_work import signed_in_web
from tests.conftest import PASSWORD, Community, ServedApp
from tests.merchants.test_merchant_page import PHONE, fits_the_phone, page
from tests.merchants.test_redemption_flow import shop

__all__ = ["browser", "desk", "page"]
NEW_PASSWORD = "my-own-password-9"


async def csrf(web: httpx.AsyncClient, path: str) -> str:
    found = CSRF_FIELD.search((await web.get(path)).text)
    assert found, path
    return found.group(1)


async def test_staff_reset_a_password_the_member_changes_it_then_staff_switch_the_member_off(
    community: Community, desk: Any, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.member(unit, name="张三")
    member = await community.member(unit, name="欧阳娜娜")
    assert (await community.adjust(member["id"], 30, "志愿服务奖励")).status_code == 201
    await sign_in(desk, await staff_login(community, unit))

    await desk.click("nav a[href='/admin/members']")
    await desk.fill("#q", "oyn")
    await desk.click("#member-search button[type=submit]")
    await expect(desk.locator("#members tbody tr")).to_have_count(1)
    await desk.click("#members a")
    await expect(desk.locator("#member-name")).to_contain_text("欧阳娜娜")
    await expect(desk.locator("#account-active")).to_have_text("正常")
    await expect(desk.locator("#login")).to_contain_text("还没有登录账号")

    await desk.click("#account-actions form[action$='/password'] button")
    await expect(desk.locator(".notice")).to_contain_text("只显示这一次")
    username = await desk.locator("#temporary-username").inner_text()
    password = await desk.locator("#temporary-password").inner_text()
    assert username == member["phone"] and len(password) >= 8
    await expect(desk.locator("#print")).to_be_visible()
    await desk.set_viewport_size(PHONE)
    await fits_the_phone(desk)
    await screenshot(desk, "30-temporary-password")

    await page.goto("/member/")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#sign-in-form button[type=submit]")
    await expect(page.locator("#password-change-required")).to_be_visible()
    await page.fill("#current_password", password)
    await page.fill("#new_password", NEW_PASSWORD)
    await page.fill("#new_password_again", NEW_PASSWORD)
    await page.click("#change-password-form button[type=submit]")
    await expect(page.locator("#message")).to_contain_text("密码已修改")
    await expect(page.locator("#available")).to_have_text("30")

    await desk.click("#back-to-member")
    await expect(desk.locator("#password-state")).to_contain_text("本人已设置密码")
    await expect(desk.locator("#login")).to_contain_text(username)
    # The switch-off asks for its tick first: the browser refuses the form without it.
    await desk.click("#account-actions form[action$='/active'] button")
    await expect(desk.locator("#account-active")).to_have_text("正常")
    await desk.check("#switch-off-confirm")
    await desk.click("#account-actions form[action$='/active'] button")
    await expect(desk.locator(".notice")).to_contain_text("账号已停用")
    await expect(desk.locator("#account-active")).to_have_text("已停用")
    await fits_the_phone(desk)
    await screenshot(desk, "31-member-switched-off")
    await desk.goto("/admin/members")
    await expect(desk.locator(f"#members tr[data-member='{member['id']}'] .tag")).to_have_text("已停用")

    # The member's session ended with the switch-off; signing in again is refused in words.
    await page.goto("/member/")
    await expect(page.locator("#sign-in-form")).to_be_visible()
    await page.fill("#username", username)
    await page.fill("#password", NEW_PASSWORD)
    await page.click("#sign-in-form button[type=submit]")
    await expect(page.locator("[role=alert]")).to_contain_text("账号已停用")
    await fits_the_phone(page)

    await desk.goto(f"/admin/members/{member['id']}")
    await desk.click("#account-actions form[action$='/active'] button")
    await expect(desk.locator(".notice")).to_contain_text("账号已启用")


def account_row(page: str, username: str) -> tuple[str, str]:
    """The id and the row of `username` on the staff accounts page."""
    for found in re.finditer(r'<tr data-account="([^"]+)"[^>]*>(.*?)</tr>', page, re.S):
        if f"<strong>{username}</strong>" in found.group(2):
            return found.group(1), found.group(2)
    raise AssertionError(f"{username} is not listed")


async def test_only_admins_manage_staff_accounts(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    area = await community.org_unit("幸福小区", "area", unit)
    colleague = await staff_login(community, area)
    web = await signed_in_web(served, community.admin_username)
    shown = await web.get("/admin/staff")
    assert shown.status_code == 200 and 'href="/admin/staff"' in shown.text
    colleague_id, row = account_row(shown.text, colleague)
    assert "幸福小区" in row and "工作人员" in row and "正常" in row
    admin_id, _ = account_row(shown.text, community.admin_username)

    staff_web = await signed_in_web(served, await staff_login(community, unit))
    refused = await staff_web.get("/admin/staff")
    assert refused.status_code == 403 and "只有管理员可以管理工作人员账号" in refused.text
    assert 'href="/admin/staff"' not in (await staff_web.get("/admin/members")).text
    token = await csrf(staff_web, "/admin/members")
    tried = await staff_web.post(
        f"/admin/staff/{colleague_id}/active", data={"_csrf_token": token, "active": "off", "confirm": "on"}
    )
    assert "只有管理员" in (await staff_web.get(tried.headers["location"])).text
    await staff_web.aclose()

    token = await csrf(web, "/admin/staff")
    unticked = await web.post(f"/admin/staff/{colleague_id}/active", data={"_csrf_token": token, "active": "off"})
    assert "请先勾选确认" in (await web.get(unticked.headers["location"])).text
    off = await web.post(
        f"/admin/staff/{colleague_id}/active", data={"_csrf_token": token, "active": "off", "confirm": "on"}
    )
    after = await web.get(off.headers["location"])
    assert "工作人员账号已停用" in after.text and "已停用" in account_row(after.text, colleague)[1]
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as anyone:
        login = await anyone.post("/api/v1/auth/login", json={"username": colleague, "password": PASSWORD})
        assert login.status_code == 403 and login.json()["code"] == "account_disabled"
    on = await web.post(f"/admin/staff/{colleague_id}/active", data={"_csrf_token": token, "active": "on"})
    assert "工作人员账号已启用" in (await web.get(on.headers["location"])).text
    moved = await web.post(
        f"/admin/staff/{colleague_id}/scope", data={"_csrf_token": token, "org_unit_id": unit, "role": "admin"}
    )
    after = await web.get(moved.headers["location"])
    assert "本人须重新登录" in after.text
    row = account_row(after.text, colleague)[1]
    assert "红旗社区" in row and "管理员" in row and "正常" in row

    own = await web.post(
        f"/admin/staff/{admin_id}/active", data={"_csrf_token": token, "active": "off", "confirm": "on"}
    )
    assert "不能停用或降级自己的账号" in (await web.get(own.headers["location"])).text
    english = await web.get("/admin/staff", params={"lang": "en"})
    assert "Staff accounts" in english.text and "Switch off" in english.text
    await web.aclose()


async def test_staff_switch_a_shop_clerk_off_and_on(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    other = await community.org_unit("东风社区")
    clerk, merchant_id, _ = await shop(community, unit)
    clerk_name = (await clerk.get("/api/v1/me")).json()["username"]
    clerk_id = (await clerk.get("/api/v1/me")).json()["id"]
    web = await signed_in_web(served, await staff_login(community, unit))
    assert 'href="/admin/clerks"' in (await web.get("/admin/members")).text
    shown = await web.get("/admin/clerks")
    assert "红星超市" in shown.text and clerk_name in shown.text and "正常" in shown.text
    assert "没有找到" in (await web.get("/admin/clerks", params={"q": "没有这家"})).text
    token = await csrf(web, "/admin/clerks")
    path = f"/admin/clerks/{merchant_id}/{clerk_id}/active"

    off = await web.post(path, data={"_csrf_token": token, "back": "/admin/clerks", "active": "off", "confirm": "on"})
    after = await web.get(off.headers["location"])
    assert "店员账号已停用" in after.text and "已停用" in after.text
    assert (await clerk.get("/api/v1/merchant/rewards")).status_code == 401
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as anyone:
        login = await anyone.post("/api/v1/auth/login", json={"username": clerk_name, "password": PASSWORD})
        assert login.status_code == 403 and login.json()["code"] == "account_disabled"
    on = await web.post(path, data={"_csrf_token": token, "active": "on"})
    assert "店员账号已启用" in (await web.get(on.headers["location"])).text
    await web.aclose()

    # Staff of another community reach neither the shop nor its clerk.
    stranger = await signed_in_web(served, await staff_login(community, other))
    assert "红星超市" not in (await stranger.get("/admin/clerks")).text
    assert "管辖范围内还没有商家" in (await stranger.get("/admin/clerks")).text
    token = await csrf(stranger, "/admin/clerks")
    refused = await stranger.post(path, data={"_csrf_token": token, "active": "off", "confirm": "on"})
    assert "找不到" in (await stranger.get(refused.headers["location"])).text
    await stranger.aclose()
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as anyone:
        login = await anyone.post("/api/v1/auth/login", json={"username": clerk_name, "password": PASSWORD})
        assert login.status_code == 200


async def test_a_reset_is_refused_in_words_when_the_phone_names_another_login(
    community: Community, served: ServedApp
) -> None:
    unit = await community.org_unit("红旗社区")
    other = await community.org_unit("东风社区")
    member = await community.member(unit, name="李四")
    taken = await community.admin.post(
        "/api/v1/admin/staff",
        json={"username": member["phone"], "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
    )
    assert taken.status_code == 201, taken.text
    with_login = await community.member(unit, name="王五", login=True)
    stranger = await community.member(other, name="外人", login=True)
    web = await signed_in_web(served, await staff_login(community, unit))
    token = await csrf(web, f"/admin/members/{member['id']}")

    refused = await web.post(f"/admin/members/{member['id']}/password", data={"_csrf_token": token})
    assert refused.status_code == 303
    assert "这个手机号已被另一个账号用作登录名" in (await web.get(refused.headers["location"])).text

    reset = await web.post(f"/admin/members/{with_login['id']}/password", data={"_csrf_token": token})
    assert reset.status_code == 200 and "已生成临时密码" in reset.text
    password = re.search(r'id="temporary-password">([^<]+)<', reset.text).group(1)  # type: ignore[union-attr]
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as anyone:
        old = await anyone.post("/api/v1/auth/login", json={"username": with_login["username"], "password": PASSWORD})
        assert old.status_code == 401
        new = await anyone.post("/api/v1/auth/login", json={"username": with_login["username"], "password": password})
        assert new.status_code == 200 and new.json()["password_change_required"] is True
    page = await web.get(f"/admin/members/{with_login['id']}")
    assert "等待本人修改密码" in page.text and password not in page.text

    outside = await web.post(f"/admin/members/{stranger['id']}/password", data={"_csrf_token": token})
    assert "找不到" in (await web.get(outside.headers["location"])).text
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as anyone:
        kept = await anyone.post("/api/v1/auth/login", json={"username": stranger["username"], "password": PASSWORD})
        assert kept.status_code == 200
    await web.aclose()
