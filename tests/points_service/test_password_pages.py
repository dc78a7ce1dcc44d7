"""The user's own password on the three pages (/member/, /merchant/, /admin/): the shared change-password
form, the change forced at the first sign-in after a reset, and a switched-off account told so in words.

One journey in Chromium at phone size (a reset member forced to choose a password, then home); the rest
over plain HTTP with cookies, as a browser without script would post the forms.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Community, ServedApp, unique
from tests.merchants import test_merchant_page as merchant_page
from tests.merchants.test_merchant_page import fits_the_phone
from tests.merchants.test_redemption_flow import shop

browser = merchant_page.browser
page = merchant_page.page
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "password-pages"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
NEW_PASSWORD = "my-own-password-9"


async def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
async def web(served: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60, follow_redirects=False) as client:
        yield client


async def csrf(web: httpx.AsyncClient, path: str) -> str:
    found = CSRF_FIELD.search((await web.get(path)).text)
    assert found, path
    return found.group(1)


async def sign_in_over_http(
    web: httpx.AsyncClient, path: str, username: str, password: str = PASSWORD
) -> httpx.Response:
    token = await csrf(web, f"{path}/login")
    return await web.post(f"{path}/login", data={"username": username, "password": password, "_csrf_token": token})


async def test_a_reset_member_is_made_to_choose_a_password_on_the_phone_then_sees_home(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    member = await community.member(unit, name="周八")
    assert (await community.adjust(member["id"], 30, "志愿服务奖励")).status_code == 201
    staff = await community.staff(unit)
    reset = await staff.post(f"/api/v1/admin/members/{member['id']}/password-reset")
    assert reset.status_code == 200, reset.text
    slip = reset.json()

    await page.goto("/member/")
    await page.fill("#username", slip["username"])
    await page.fill("#password", slip["temporary_password"])
    await page.click("#sign-in-form button[type=submit]")

    await expect(page.locator("#password-change-required")).to_contain_text("请先设置自己的新密码")
    await expect(page.locator("#tabs")).to_have_count(0)
    await fits_the_phone(page)
    await screenshot(page, "01-forced-change")

    # Nothing else opens until the password is changed.
    await page.goto("/member/")
    await expect(page.locator("#change-password-form")).to_be_visible()
    await expect(page.locator("#available")).to_have_count(0)

    await page.fill("#current_password", slip["temporary_password"])
    await page.fill("#new_password", NEW_PASSWORD)
    await page.fill("#new_password_again", NEW_PASSWORD + "x")
    await page.click("#change-password-form button[type=submit]")
    await expect(page.locator("#error")).to_contain_text("两次输入的新密码不一样")
    await screenshot(page, "02-mismatch")

    await page.fill("#current_password", slip["temporary_password"])
    await page.fill("#new_password", NEW_PASSWORD)
    await page.fill("#new_password_again", NEW_PASSWORD)
    await page.click("#change-password-form button[type=submit]")

    await expect(page.locator("#message")).to_contain_text("密码已修改")
    await expect(page.locator("#available")).to_have_text("30")
    await expect(page.locator("#tabs")).to_be_visible()
    await fits_the_phone(page)
    await screenshot(page, "03-home-after-change")
    signed_in = await community.anonymous.post(
        "/api/v1/auth/login", json={"username": slip["username"], "password": NEW_PASSWORD}
    )
    assert signed_in.json()["password_change_required"] is False


@pytest.mark.parametrize("path", ["/admin", "/merchant"])
async def test_the_console_and_the_counter_let_the_signed_in_user_change_the_password(
    community: Community, web: httpx.AsyncClient, path: str
) -> None:
    unit = await community.org_unit()
    if path == "/admin":
        username = unique("s")
        created = await community.admin.post(
            "/api/v1/admin/staff",
            json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
        )
        assert created.status_code == 201, created.text
    else:
        clerk, _, _ = await shop(community, unit)
        username = (await clerk.get("/api/v1/me")).json()["username"]
    assert (await sign_in_over_http(web, path, username)).status_code == 303

    home = await web.get(f"{path}/")
    assert f'href="{path}/password"' in home.text
    assert "修改密码" in home.text
    form = await web.get(f"{path}/password")
    assert form.status_code == 200
    assert 'id="change-password-form"' in form.text
    token = CSRF_FIELD.search(form.text).group(1)  # type: ignore[union-attr]

    wrong = await web.post(
        f"{path}/password",
        data={
            "current_password": "not-the-password",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "_csrf_token": token,
        },
    )
    assert wrong.status_code == 400
    assert "当前密码不对" in wrong.text
    changed = await web.post(
        f"{path}/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "_csrf_token": token,
        },
    )
    assert changed.status_code == 303, changed.text
    assert changed.headers["location"] == f"{path}/"
    after = await web.get(f"{path}/")
    assert after.status_code == 200
    assert "密码已修改" in after.text
    old = await community.anonymous.post("/api/v1/auth/login", json={"username": username, "password": NEW_PASSWORD})
    assert old.status_code == 200


async def test_a_switched_off_account_signing_in_on_a_page_is_told_so_in_chinese(
    community: Community, web: httpx.AsyncClient
) -> None:
    unit = await community.org_unit()
    username = unique("s")
    created = await community.admin.post(
        "/api/v1/admin/staff", json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"}
    )
    switched = await community.admin.patch(f"/api/v1/admin/staff/{created.json()['id']}", json={"active": False})
    assert switched.status_code == 200, switched.text

    refused = await sign_in_over_http(web, "/admin", username)
    assert refused.status_code == 403
    assert "账号已停用" in refused.text
    assert "account_disabled" not in refused.text
