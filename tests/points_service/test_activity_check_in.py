"""Checking in to an activity from the member's phone: the six-digit short code beside the rotating
token (API and typed on the page), the activity's own screen (details, cancel, sign up again), and the
camera reading the organiser's QR code with the shipped decoder (jsQR), at 360 px."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from points_service.activities.tokens import (
    WINDOW_SECONDS,
    check_in_token,
    check_in_token_valid,
    short_check_in_code,
)
from tests import fake_camera
from tests.conftest import Community
from tests.fake_camera import Camera
from tests.merchants import test_merchant_page as merchant_page
from tests.merchants.test_merchant_page import fits_the_phone
from tests.points_service.test_activities import code_of, create_activity, member_phone, sign_up
from tests.points_service.test_member_page import screenshot, sign_in

browser = merchant_page.browser
page = merchant_page.page
camera = fake_camera.camera
SECRET = "a-secret-for-tokens-" + "x" * 40
POINTS_LATER = "签到成功。工作人员确认考勤后，积分会发到您的账户"


async def check_in_code(community: Community, activity_id: str) -> dict[str, Any]:
    response = await community.admin.get(f"/api/v1/activities/{activity_id}/check-in-code")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_short_code_is_six_digits_of_the_same_window() -> None:
    activity = uuid.UUID("0b6f1d3e-1f7a-4c55-9a59-2f1f5d0f6a11")
    other = uuid.UUID("7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
    now = datetime(2026, 12, 6, 12, 0, 30, tzinfo=UTC)
    code = short_check_in_code(SECRET, activity, now)

    assert len(code) == 6 and code.isdigit()
    assert check_in_token_valid(SECRET, activity, code, now)
    assert check_in_token_valid(SECRET, activity, f" {code[:3]} {code[3:]} ", now)  # as read aloud
    assert check_in_token_valid(SECRET, activity, code, now + timedelta(seconds=WINDOW_SECONDS))  # a late phone
    assert not check_in_token_valid(SECRET, activity, code, now + timedelta(seconds=2 * WINDOW_SECONDS))
    assert not check_in_token_valid(SECRET, other, code, now)
    assert not check_in_token_valid("another-secret-" + "y" * 40, activity, code, now)
    # The 24-letter token of the same window is still accepted, bare or as scanned.
    token = check_in_token(SECRET, activity, now)
    assert check_in_token_valid(SECRET, activity, token, now)
    assert check_in_token_valid(SECRET, activity, f"RP-CHECKIN:{activity}:{token}", now)


async def test_a_member_checks_in_with_the_short_code_and_guessing_is_stopped(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=5)
    activity = await create_activity(community.admin, unit, rule, starts_in=5)
    member, phone = await member_phone(community, unit)
    guesser, guessing_phone = await member_phone(community, unit, "李四")
    for body in (member, guesser):
        assert (await sign_up(phone if body is member else guessing_phone, activity["id"])).status_code == 201

    code = await check_in_code(community, activity["id"])
    assert len(code["short_code"]) == 6 and code["short_code"].isdigit() and len(code["token"]) == 24

    # Ten wrong codes are refused as wrong; the eleventh try is refused as too many, even a right one.
    wrong = f"{(int(code['short_code']) + 500_000) % 1_000_000:06d}"
    for _ in range(10):
        response = await guessing_phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": wrong})
        assert response.status_code == 409 and code_of(response) == "invalid_check_in_token", response.text
    stopped = await guessing_phone.post(
        f"/api/v1/activities/{activity['id']}/check-in", json={"token": code["short_code"]}
    )
    assert stopped.status_code == 429 and code_of(stopped) == "too_many_attempts", stopped.text
    assert int(stopped.headers["retry-after"]) > 0

    # Another member's right code goes through, and a right code is not counted as a miss.
    for _ in range(2):
        checked = await phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": code["short_code"]})
    assert checked.status_code == 409 and code_of(checked) == "already_checked_in", checked.text
    signups = (await community.admin.get(f"/api/v1/activities/{activity['id']}/signups")).json()
    checked_in = {row["member_id"] for row in signups["items"] if row["checked_in_at"]}
    assert checked_in == {member["id"]}


async def test_a_member_reads_an_activity_cancels_signs_up_again_and_types_the_short_code(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    member = await community.member(unit, name="王小红", login=True)
    rule = await community.rule(points=5)
    activity = await create_activity(
        community.admin,
        unit,
        rule,
        starts_in=30,
        title="敬老院探访",
        description="陪老人聊天，打扫房间。\n请穿志愿者马甲。",
    )

    await sign_in(page, member["username"])
    await page.click("[data-tab=activities]")
    await page.click(f"#activity-list li[data-activity='{activity['id']}'] a.title")
    await expect(page.locator("#activity-title")).to_have_text("敬老院探访")
    await expect(page.locator("#activity-description")).to_contain_text("请穿志愿者马甲")
    await expect(page.locator("#activity-place")).to_have_text("社区广场")
    starts = datetime.fromisoformat(activity["starts_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    await expect(page.locator("#activity-starts")).to_have_text(starts.strftime("%Y-%m-%d %H:%M"))
    await expect(page.locator("#activity-ends")).to_have_text(
        (starts + timedelta(minutes=120)).strftime("%Y-%m-%d %H:%M")
    )
    await fits_the_phone(page)

    await page.click("#sign-up")
    await expect(page.locator("#message")).to_have_text("报名成功")
    await expect(page.locator("#signed-up")).to_have_text("您已报名这个活动")
    # Thirty minutes before the start, check-in (20 minutes before) is not open yet, and says when it opens.
    await expect(page.locator("#check-in-later")).to_contain_text("签到从")
    await page.click("#cancel-sign-up")
    await expect(page.locator("#message")).to_have_text("已取消报名，名额已让给其他人")
    await expect(page.locator("#activity-places")).to_contain_text("已报名 0 人")
    await screenshot(page, "09-activity-cancelled")

    soon = await create_activity(community.admin, unit, rule, starts_in=5, title="清洁家园")
    await page.goto(f"/member/activities/{soon['id']}")
    await page.click("#sign-up")
    await expect(page.locator("#scan")).to_be_visible()  # this browser can open a camera: scanning is offered
    await fits_the_phone(page)
    await screenshot(page, "10-activity-check-in-box")
    right = (await check_in_code(community, soon["id"]))["short_code"]
    await page.fill("#check-in-code", f"{(int(right) + 1) % 1_000_000:06d}")
    await page.click("#check-in")
    await expect(page.locator("#message")).to_contain_text("签到码不对或已过期")
    await page.fill("#check-in-code", right)
    await page.click("#check-in")
    await expect(page.locator("#message")).to_have_text(POINTS_LATER)
    await expect(page.locator("#check-in-state")).to_contain_text("工作人员确认考勤后，积分会发到您的账户")
    await expect(page.locator("#cancel-sign-up")).to_have_count(0)
    await fits_the_phone(page)
    await screenshot(page, "10b-activity-checked-in-by-code")


async def test_a_member_checks_in_by_scanning_the_organisers_qr_with_the_camera(
    community: Community, camera: Camera
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    member, phone = await member_phone(community, unit, "王小红")
    rule = await community.rule(points=5)
    activity = await create_activity(community.admin, unit, rule, starts_in=5, title="清洁家园")
    assert (await sign_up(phone, activity["id"])).status_code == 201
    qr = await community.admin.get(f"/api/v1/activities/{activity['id']}/check-in-code.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")

    # No BarcodeDetector, as in many Android WebViews: the page's own jsQR must read the camera.
    page = await camera.filming(qr.text, native_reader=False)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security" in message.text else None)
    await sign_in(page, member["username"])
    await page.goto(f"/member/activities/{activity['id']}")
    await expect(page.locator("#activity-title")).to_have_text("清洁家园")
    await page.click("#scan")

    await expect(page.locator("#message")).to_have_text(POINTS_LATER)
    await expect(page.locator("#check-in-state")).to_contain_text("工作人员确认考勤后")
    assert any(url.endswith("/member/static/web/vendor/jsqr/jsQR.js") for url in fetched), fetched
    assert refused == []  # the page's policy lets the scanner, the decoder and the camera work
    signups = (await community.admin.get(f"/api/v1/activities/{activity['id']}/signups")).json()["items"]
    assert [row["checked_in_at"] is not None for row in signups] == [True]
    await fits_the_phone(page)
    await screenshot(page, "11-activity-checked-in-by-camera")
