"""The shop's application form in a real browser at phone size: the community's link, the form, the
pending banner after signing in; and the form's refusals over plain HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import PASSWORD, Community, unique
from tests.merchants import test_merchant_page as merchant_page
from tests.merchants.test_merchant_page import csrf_token, fits_the_phone, screenshot, sign_in

# The merchant page's fixtures: chromium at phone size, and a cookie-keeping HTTP client.
browser = merchant_page.browser
page = merchant_page.page
web = merchant_page.web


async def test_a_shop_applies_from_its_link_and_sees_it_is_awaiting_approval(community: Community, page: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    username = unique("shop")

    await page.goto(f"/merchant/apply/{unit}")
    await expect(page.locator("#community")).to_contain_text("红旗社区")
    await fits_the_phone(page)
    await page.fill("#name", "幸福小卖部")
    await page.fill("#address", "幸福路8号")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#applied")).to_contain_text("幸福小卖部")
    await screenshot(page, "apply-01-sent")

    await sign_in(page, username)
    await expect(page.locator("main .alert").first).to_contain_text("等待社区审核")
    await screenshot(page, "apply-02-pending")
    listed = (await community.admin.get("/api/v1/admin/merchants", params={"status": "pending"})).json()["items"]
    assert [item["name"] for item in listed] == ["幸福小卖部"]


async def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(
    community: Community, web: httpx.AsyncClient
) -> None:
    unit = await community.org_unit()
    path = f"/merchant/apply/{unit}"
    token = await csrf_token(web, path)

    response = await web.post(
        path,
        data={"name": "幸福小卖部", "address": "幸福路8号", "username": "x", "password": "short", "_csrf_token": token},
    )

    assert response.status_code == 400
    assert "请检查填写的内容" in response.text
    assert 'value="幸福小卖部"' in response.text
    assert (await community.admin.get("/api/v1/admin/merchants")).json()["items"] == []


async def test_an_unknown_community_link_says_so(web: httpx.AsyncClient) -> None:
    response = await web.get(f"/merchant/apply/{uuid.uuid4()}")

    assert response.status_code == 404
    assert "找不到这个社区" in response.text


async def test_the_form_without_its_csrf_token_is_refused(community: Community, web: httpx.AsyncClient) -> None:
    unit = await community.org_unit()
    path = f"/merchant/apply/{unit}"
    await web.get(path)

    response = await web.post(
        path, data={"name": "店", "address": "路", "username": unique("shop"), "password": PASSWORD}
    )

    assert response.status_code == 403
    assert (await community.admin.get("/api/v1/admin/merchants")).json()["items"] == []
