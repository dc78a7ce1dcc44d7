"""The merchant web page (/merchant/) in a real browser at phone size, and its security over plain HTTP.

The browser tests drive Debian's chromium through Playwright (never `playwright install`); they are
skipped only when /usr/bin/chromium is missing. Screenshots of each step go to test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Community, ServedApp, unique
from tests.merchants.test_redemption_flow import shop

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "merchant-page"
PHONE = {"width": 360, "height": 740}
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
# Headless chromium has neither a camera nor a QR reader; these stand in for a phone's.
FAKE_CAMERA_AND_QR_READER = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  async detect() { return [{ rawValue: CODE_SEEN }]; }
};
const blankCamera = async () => {
  const canvas = document.createElement("canvas");
  canvas.getContext("2d").fillRect(0, 0, canvas.width, canvas.height);
  return canvas.captureStream();
};
Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia: blankCamera } });
"""


# -- set-up -----------------------------------------------------------------------------------------


@dataclass
class Counter:
    """A shop with a clerk who can sign in, and a member holding one pending code for it."""

    clerk_username: str
    clerk_api: httpx.AsyncClient
    merchant_id: str
    member: dict[str, Any]
    reward_id: str
    code: str


async def counter(community: Community, member_name: str = "张三", quantity: int = 2) -> Counter:
    unit = await community.org_unit()
    member = await community.member(unit, name=member_name, login=True)
    await community.adjust(member["id"], 100)
    clerk_api, merchant_id, reward_id = await shop(community, unit, stock=5)
    clerk_username = unique("clerk")
    added = await community.admin.post(
        f"/api/v1/admin/merchants/{merchant_id}/clerks", json={"username": clerk_username, "password": PASSWORD}
    )
    assert added.status_code == 201, added.text
    phone = await community.client_for(member["username"])
    redeemed = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": quantity})
    assert redeemed.status_code == 201, redeemed.text
    return Counter(clerk_username, clerk_api, merchant_id, member, reward_id, redeemed.json()["code"])


def chromium_installed() -> bool:
    return CHROMIUM.exists()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not chromium_installed():
        pytest.skip(f"chromium not installed: {CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Any, served: ServedApp) -> AsyncIterator[Any]:
    context = await browser.new_context(
        viewport=PHONE,
        base_url=served.base_url,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


async def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    await page.goto("/merchant/")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def fits_the_phone(page: Any) -> None:
    width = await page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px wide"


@pytest.fixture
async def web(served: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client that keeps cookies, as a browser would, but runs no script."""
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60, follow_redirects=False) as client:
        yield client


async def csrf_token(web: httpx.AsyncClient, path: str = "/merchant/login") -> str:
    response = await web.get(path)
    found = CSRF_FIELD.search(response.text)
    assert found, response.text
    return found.group(1)


async def sign_in_over_http(web: httpx.AsyncClient, username: str) -> str:
    token = await csrf_token(web)
    response = await web.post(
        "/merchant/login", data={"username": username, "password": PASSWORD, "_csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return token


def test_every_string_is_in_both_languages() -> None:
    from merchants.web.i18n import MESSAGES

    assert set(MESSAGES["zh-CN"]) == set(MESSAGES["en"])


# -- the counter in a browser -----------------------------------------------------------------------


async def test_clerk_confirms_a_typed_code_and_a_second_try_says_already_used(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    shop_counter = await counter(community, member_name="张三", quantity=2)

    await sign_in(page, shop_counter.clerk_username)
    await expect(page.locator("#code")).to_be_visible()
    await screenshot(page, "01-signed-in")

    await page.fill("#code", shop_counter.code.lower())
    await screenshot(page, "02-code-typed")
    await page.click("#look-up")
    await expect(page.locator("#preview-reward")).to_have_text("大米5斤")
    await expect(page.locator("#preview-quantity")).to_contain_text("2")
    await expect(page.locator("#preview-member")).to_have_text("张*")
    await screenshot(page, "03-preview")

    await page.click("#confirm")
    await expect(page.locator("#done")).to_contain_text("大米5斤")
    await expect(page.locator("#today")).to_contain_text("大米5斤 × 2")
    await expect(page.locator("#today")).to_contain_text("张*")
    await screenshot(page, "04-confirmed")

    await page.fill("#code", shop_counter.code.lower())
    await page.click("#look-up")
    await expect(page.locator("#error")).to_have_text("该兑换码已使用")
    await expect(page.locator("#confirm")).to_have_count(0)
    await screenshot(page, "05-already-used")

    verified = await shop_counter.clerk_api.post(
        "/api/v1/merchant/redemptions/verify", json={"code": shop_counter.code}
    )
    assert verified.json()["status"] == "fulfilled"


async def test_member_cannot_sign_in_on_the_merchant_page(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    member = await community.member(unit, login=True)

    await sign_in(page, member["username"])

    await expect(page.locator("#error")).to_contain_text("仅供商户店员")
    await screenshot(page, "06-member-refused")
    assert page.url.endswith("/merchant/login")
    assert [cookie["name"] for cookie in await page.context.cookies() if cookie["name"].startswith("rp_merchant")] == []


async def test_session_cookie_is_http_only_and_same_site(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    shop_counter = await counter(community)

    await sign_in(page, shop_counter.clerk_username)
    await expect(page.locator("#code")).to_be_visible()

    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    session = cookies["rp_merchant_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] in ("Lax", "Strict")
    assert cookies["rp_merchant_refresh"]["httpOnly"] is True
    assert "rp_merchant" not in await page.evaluate("document.cookie")


async def test_page_is_usable_on_a_360px_screen(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    shop_counter = await counter(community, member_name="欧阳娜娜")
    await page.goto("/merchant/login")
    await fits_the_phone(page)

    await sign_in(page, shop_counter.clerk_username)
    code_box = page.locator("#code")
    await expect(code_box).to_be_visible()
    box = await code_box.bounding_box()
    assert box is not None and box["height"] >= 44, box
    assert box["width"] <= PHONE["width"]
    await fits_the_phone(page)

    await page.fill("#code", shop_counter.code)
    await page.click("#look-up")
    confirm = page.locator("#confirm")
    await expect(confirm).to_be_visible()
    confirm_box = await confirm.bounding_box()
    assert confirm_box is not None and confirm_box["height"] >= 44, confirm_box
    await fits_the_phone(page)
    await page.click("#confirm")
    await expect(page.locator("#today")).to_contain_text("欧***")
    await fits_the_phone(page)

    for path in ("/merchant/rewards", f"/merchant/rewards/{shop_counter.reward_id}", "/merchant/statement"):
        await page.goto(path)
        await fits_the_phone(page)
    await screenshot(page, "07-statement")


async def test_camera_button_stays_hidden_without_a_camera(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    shop_counter = await counter(community)
    # A browser that cannot open a camera (no getUserMedia, as on a page served without HTTPS).
    await page.add_init_script("Object.defineProperty(navigator, 'mediaDevices', { value: undefined })")

    await sign_in(page, shop_counter.clerk_username)

    await expect(page.locator("#code")).to_be_visible()
    await expect(page.locator("#scan")).to_be_hidden()


async def test_scanned_qr_code_is_looked_up(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    shop_counter = await counter(community)
    await page.add_init_script(FAKE_CAMERA_AND_QR_READER.replace("CODE_SEEN", json.dumps(shop_counter.code)))
    await sign_in(page, shop_counter.clerk_username)

    await page.click("#scan")

    await expect(page.locator("#preview-reward")).to_have_text("大米5斤")
    await expect(page.locator("#confirm")).to_be_visible()


async def test_clerk_adds_edits_and_deactivates_a_reward(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    shop_counter = await counter(community)
    await sign_in(page, shop_counter.clerk_username)
    await expect(page.locator("#code")).to_be_visible()

    await page.goto("/merchant/rewards")
    await page.click("#new-reward summary")
    await page.fill("#title", "理发一次")
    await page.fill("#points_price", "30")
    await page.fill("#stock", "10")
    await page.click("#new-reward button[type=submit]")
    await expect(page.locator("#saved")).to_be_visible()
    await expect(page.locator("#rewards")).to_contain_text("理发一次")
    await screenshot(page, "08-reward-added")

    await page.locator("#rewards li", has_text="理发一次").get_by_role("link").click()
    await page.fill("#points_price", "25")
    await page.fill("#stock", "")
    await page.click("button.primary")
    await expect(page.locator("#saved")).to_be_visible()
    row = page.locator("#rewards li", has_text="理发一次")
    await expect(row).to_contain_text("25")
    await row.get_by_role("button", name="下架").click()
    await expect(page.locator("#rewards li", has_text="理发一次")).to_contain_text("已下架")
    await screenshot(page, "09-reward-deactivated")

    listed = (await shop_counter.clerk_api.get("/api/v1/merchant/rewards")).json()["items"]
    haircut = next(item for item in listed if item["title"] == "理发一次")
    assert (haircut["points_price"], haircut["stock"], haircut["status"]) == (25, None, "inactive")


# -- over plain HTTP ----------------------------------------------------------------------------------


async def test_confirm_without_csrf_token_is_refused(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    await sign_in_over_http(web, shop_counter.clerk_username)

    refused = await web.post("/merchant/confirm", data={"code": shop_counter.code})

    assert refused.status_code == 403, refused.text
    assert "页面已过期" in refused.text
    verified = await shop_counter.clerk_api.post(
        "/api/v1/merchant/redemptions/verify", json={"code": shop_counter.code}
    )
    assert verified.json()["status"] == "pending"


async def test_sign_in_without_csrf_token_is_refused(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    await web.get("/merchant/login")

    refused = await web.post("/merchant/login", data={"username": shop_counter.clerk_username, "password": PASSWORD})

    assert refused.status_code == 403, refused.text
    assert "rp_merchant_session" not in web.cookies


async def test_session_cookies_are_secure_over_https(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    token = await csrf_token(web)

    # As behind a TLS-terminating proxy on this host: uvicorn trusts X-Forwarded-Proto from 127.0.0.1.
    response = await web.post(
        "/merchant/login",
        data={"username": shop_counter.clerk_username, "password": PASSWORD, "_csrf_token": token},
        headers={"X-Forwarded-Proto": "https"},
    )

    assert response.status_code == 303, response.text
    session = [cookie for cookie in response.headers.get_list("set-cookie") if cookie.startswith("rp_merchant")]
    assert len(session) == 2
    assert all("Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie for cookie in session), session


async def test_wrong_password_says_so_in_chinese(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    token = await csrf_token(web)

    response = await web.post(
        "/merchant/login",
        data={"username": shop_counter.clerk_username, "password": "wrong-password", "_csrf_token": token},
    )

    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert "rp_merchant_session" not in web.cookies


async def test_json_api_needs_no_csrf_token(community: Community) -> None:
    shop_counter = await counter(community)

    verified = await shop_counter.clerk_api.post(
        "/api/v1/merchant/redemptions/verify", json={"code": shop_counter.code}
    )

    assert verified.status_code == 200, verified.text
    assert "rp_csrf" not in verified.headers.get("set-cookie", "")


async def test_signed_out_visitor_is_sent_to_sign_in(web: httpx.AsyncClient) -> None:
    response = await web.get("/merchant/")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/merchant/login")


async def test_unknown_code_says_not_found(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    token = await sign_in_over_http(web, shop_counter.clerk_username)

    response = await web.post("/merchant/verify", data={"code": "zzzz-zzzz", "_csrf_token": token})

    assert response.status_code == 404
    assert "未找到该兑换码" in response.text


async def test_code_of_another_shop_says_not_found(community: Community, web: httpx.AsyncClient) -> None:
    ours = await counter(community)
    theirs = await counter(community)
    token = await sign_in_over_http(web, ours.clerk_username)

    response = await web.post("/merchant/verify", data={"code": theirs.code, "_csrf_token": token})

    assert response.status_code == 404
    assert "未找到该兑换码" in response.text


async def test_cancelled_code_says_cancelled(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    phone = await community.client_for(shop_counter.member["username"])
    mine = (await phone.get("/api/v1/me/redemptions")).json()["items"][0]
    await phone.post(f"/api/v1/me/redemptions/{mine['id']}/cancel")
    token = await sign_in_over_http(web, shop_counter.clerk_username)

    response = await web.post("/merchant/verify", data={"code": shop_counter.code, "_csrf_token": token})

    assert "该兑换码已被会员取消" in response.text
    assert 'id="confirm"' not in response.text


async def test_suspended_shop_cannot_confirm(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    token = await sign_in_over_http(web, shop_counter.clerk_username)
    preview = await web.post("/merchant/verify", data={"code": shop_counter.code, "_csrf_token": token})
    key = re.search(r'name="key" value="([^"]+)"', preview.text)
    assert key, preview.text
    suspended = await community.admin.patch(
        f"/api/v1/admin/merchants/{shop_counter.merchant_id}", json={"status": "suspended"}
    )
    assert suspended.status_code == 200, suspended.text

    response = await web.post(
        "/merchant/confirm", data={"code": shop_counter.code, "key": key.group(1), "_csrf_token": token}
    )

    assert response.status_code == 409
    assert "本店已被暂停" in response.text


async def test_double_tap_on_confirm_settles_once(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    token = await sign_in_over_http(web, shop_counter.clerk_username)
    preview = await web.post("/merchant/verify", data={"code": shop_counter.code, "_csrf_token": token})
    key = re.search(r'name="key" value="([^"]+)"', preview.text)
    assert key, preview.text
    form = {"code": shop_counter.code, "key": key.group(1), "_csrf_token": token}

    first = await web.post("/merchant/confirm", data=form)
    second = await web.post("/merchant/confirm", data=form)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    ledger = await community.ledger(shop_counter.member["id"])
    assert [line["kind"] for line in ledger].count("redemption_fulfil") == 1


async def test_expired_access_cookie_is_renewed_with_the_refresh_cookie(
    community: Community, web: httpx.AsyncClient
) -> None:
    shop_counter = await counter(community)
    await sign_in_over_http(web, shop_counter.clerk_username)
    web.cookies.set("rp_merchant_session", "expired.or.garbage", path="/merchant")

    response = await web.get("/merchant/")

    assert response.status_code == 200, response.text
    renewed = [
        header for header in response.headers.get_list("set-cookie") if header.startswith("rp_merchant_session=")
    ]
    assert renewed and "HttpOnly" in renewed[0]


async def test_sign_out_revokes_the_session(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community)
    token = await sign_in_over_http(web, shop_counter.clerk_username)
    refresh = web.cookies.get("rp_merchant_refresh")

    signed_out = await web.post("/merchant/logout", data={"_csrf_token": token})

    assert signed_out.status_code == 303
    reused = await community.anonymous.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert reused.status_code == 401
    assert (await web.get("/merchant/")).status_code == 303


async def test_english_is_available_and_remembered(community: Community, web: httpx.AsyncClient) -> None:
    default = await web.get("/merchant/login")
    assert '<html lang="zh-CN">' in default.text and "店员登录" in default.text

    english = await web.get("/merchant/login?lang=en")
    assert '<html lang="en">' in english.text and "Clerk sign-in" in english.text

    remembered = await web.get("/merchant/login")
    assert "Clerk sign-in" in remembered.text


async def test_statement_totals_the_month_and_downloads_as_csv(community: Community, web: httpx.AsyncClient) -> None:
    shop_counter = await counter(community, quantity=2)
    fulfilled = await shop_counter.clerk_api.post(
        "/api/v1/merchant/redemptions/fulfil", json={"code": shop_counter.code}
    )
    assert fulfilled.status_code == 200, fulfilled.text
    await sign_in_over_http(web, shop_counter.clerk_username)

    page = await web.get("/merchant/statement")
    download = await web.get("/merchant/statement.csv")

    assert page.status_code == 200, page.text
    assert re.search(r'id="total-points">\s*40\s*<', page.text), page.text
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    text = download.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["核销时间", "兑换码", "商品"]
    assert [(row[1], row[2], row[3], row[4]) for row in rows[1:]] == [(shop_counter.code, "大米5斤", "2", "40")]
