"""The clerk's page reads a member's redemption QR code through the camera (Chromium's fake camera
filming the QR the service drew for the member), and shows each reward's per-member limit."""

from __future__ import annotations

from typing import Any

from tests import fake_camera
from tests.conftest import Community
from tests.fake_camera import Camera
from tests.merchants import test_merchant_page as merchant_page
from tests.merchants.test_merchant_page import counter, fits_the_phone, screenshot, sign_in

browser = merchant_page.browser
page = merchant_page.page
camera = fake_camera.camera


async def test_a_clerk_scans_the_members_redemption_qr_with_the_camera(community: Community, camera: Camera) -> None:
    from playwright.async_api import expect

    shop = await counter(community, member_name="欧阳娜娜")
    phone = await community.client_for(shop.member["username"])
    mine = (await phone.get("/api/v1/me/redemptions")).json()["items"]
    [redemption] = [item for item in mine if item["code"] == shop.code]
    qr = await phone.get(f"/api/v1/me/redemptions/{redemption['id']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")

    page = await camera.filming(qr.text)
    await sign_in(page, shop.clerk_username)
    await page.click("#scan")

    await expect(page.locator("#preview-reward")).to_have_text("大米5斤")
    await expect(page.locator("#preview-quantity")).to_have_text("× 2")
    await fits_the_phone(page)
    await screenshot(page, "08-scanned-by-camera")
    await page.click("#confirm")
    await expect(page.locator("#done")).to_contain_text("大米5斤")


async def test_the_rewards_list_shows_each_rewards_limit_per_member(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    shop = await counter(community)
    limited = await shop.clerk_api.post(
        "/api/v1/merchant/rewards",
        json={"title": "食用油", "points_price": 30, "per_member_limit": 1, "limit_period": "quarter"},
    )
    assert limited.status_code == 201, limited.text

    await sign_in(page, shop.clerk_username)
    await page.goto("/merchant/rewards")

    rewards = page.locator("#rewards li")
    await expect(rewards.filter(has_text="食用油").locator(".limit")).to_have_text("每人每季度限兑 1 件")
    await expect(rewards.filter(has_text="大米5斤").locator(".limit")).to_have_text("每人不限")
    await fits_the_phone(page)
