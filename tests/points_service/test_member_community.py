"""The member page's community screens in Chromium at 360 px: a proxy posts a micro-wish for an elder and
a second member claims and fulfils it, then reads in their history what the points were for; a
problem report with a photo and staff's answer (and the photo kept from other members, the uploads
that are refused); 双报到 and its confirmation; claiming a post and a shift's check-in saying when it
opens. Screenshots go to test-artifacts/member-page/."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.admin.test_console import staff_login
from tests.admin.test_console_work import signed_in_web
from tests.conftest import Community, ServedApp
from tests.merchants.test_merchant_page import fits_the_phone
from tests.points_service.test_duty import create_post, one_shift
from tests.points_service.test_member_page import browser, page, screenshot, sign_in

__all__ = ["browser", "page"]


def png(width: int = 8, height: int = 8) -> bytes:
    """A small red PNG, written by hand (no imaging library is a dependency)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xc8\x10\x2e" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def switch_to(page: Any, username: str) -> None:
    await page.context.clear_cookies()
    await sign_in(page, username)


async def test_a_proxy_posts_a_wish_for_an_elder_another_member_fulfils_it_and_reads_why_they_were_paid(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    elder = await community.member(unit, name="王秀英")
    proxy = await community.member(unit, name="李代办", login=True)
    helper = await community.member(unit, name="张热心", login=True)
    appointed = await community.admin.post(
        "/api/v1/proxies", json={"proxy_member_id": proxy["id"], "member_id": elder["id"]}
    )
    assert appointed.status_code == 201, appointed.text

    await sign_in(page, proxy["username"])
    await page.click("#go-acting")
    choice = page.locator(f"#acting-choices li[data-member='{elder['id']}']")
    await expect(choice).to_contain_text("王**")
    await choice.locator("button").click()
    await expect(page.locator("#message")).to_contain_text("现在开始代办")
    await expect(page.locator("#acting")).to_contain_text("正在为 王** 代办")
    await page.click("[data-tab=home]")
    await expect(page.locator("#acting")).to_contain_text("正在为 王** 代办")
    await page.click("#go-wishes")
    await expect(page.locator("#acting")).to_contain_text("正在为 王** 代办")
    await page.fill("#wish-title", "帮忙买一袋大米")
    await page.fill("#wish-resident", "王秀英")
    await page.click("#wish-form button[type=submit]")
    await expect(page.locator("#message")).to_have_text("微心愿已发布，等待党员群众认领")
    await expect(page.locator("#posted-wishes li").first).to_contain_text("待认领")
    await fits_the_phone(page)
    await screenshot(page, "20-wish-posted-by-proxy")
    await page.goto("/member/reports")
    await page.fill("#report-place", "王阿姨家楼道")
    await page.fill("#report-description", "楼道灯不亮")
    await page.click("#report-form button[type=submit]")
    await expect(page.locator("#message")).to_have_text("上报成功，社区会尽快处理")
    filed = (await community.admin.get("/api/v1/reports")).json()["items"]
    assert [(report["place"], report["member_id"]) for report in filed] == [("王阿姨家楼道", elder["id"])]
    await page.click("#acting a")
    await page.locator("#acting-choices li").first.locator("button").click()
    await expect(page.locator("#message")).to_have_text("已结束代办")
    await expect(page.locator("#acting")).to_have_count(0)

    await switch_to(page, helper["username"])
    await page.click("#go-wishes")
    wish = page.locator("#open-wishes li").filter(has_text="帮忙买一袋大米")
    await expect(wish).to_contain_text("王**")
    await wish.locator("button").click()
    await expect(page.locator("#message")).to_have_text("认领成功，请尽快联系居民")
    mine = page.locator("#my-wishes li").filter(has_text="帮忙买一袋大米")
    await expect(mine).to_contain_text("王秀英")  # the claimant may find the resident
    await mine.locator("input[name=note]").fill("已送到家中")
    await mine.locator("form.wide button").click()
    await expect(page.locator("#message")).to_have_text("已标记完成，等待工作人员确认后发放积分")
    await expect(mine).to_contain_text("已完成，待工作人员确认")
    await fits_the_phone(page)
    await screenshot(page, "21-wish-fulfilled")

    wish_id = await mine.get_attribute("data-wish")
    rule = await community.admin.post(
        "/api/v1/admin/rules",
        json={"code": "WISH_DONE", "name": "完成微心愿", "category": "volunteer", "points": 15, "unit": "each"},
    )
    assert rule.status_code == 201, rule.text
    hourly = await community.rule(points=10, unit="hour", name="志愿服务")
    verified = await community.admin.post(f"/api/v1/wishes/{wish_id}/verify", json={"rule_code": "WISH_DONE"})
    assert verified.status_code == 200, verified.text
    assert (await community.award(helper["id"], hourly, 2)).status_code == 201

    await page.reload()
    await expect(mine).to_contain_text("已确认，积分已发放")
    await page.click("[data-tab=home]")
    history = page.locator("#history li")
    await expect(history.nth(0)).to_contain_text("志愿服务 · 2 小时")
    await expect(history.nth(0)).to_contain_text("+20")
    await expect(history.nth(1)).to_contain_text("完成微心愿")
    await expect(history.nth(1)).to_contain_text("微心愿: 帮忙买一袋大米")
    await expect(history.nth(1)).to_contain_text("+15")
    await fits_the_phone(page)
    await screenshot(page, "22-history-explained")


async def test_a_member_reports_a_problem_with_a_photo_and_reads_staffs_answer(
    community: Community, page: Any, served: ServedApp
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit()
    member = await community.member(unit, name="赵居民", login=True)
    neighbour = await community.member(unit, name="钱邻居", login=True)

    await sign_in(page, member["username"])
    await page.click("#go-reports")
    await expect(page.locator("#my-reports .empty")).to_be_visible()
    await page.select_option("#report-category", "facility")
    await page.fill("#report-place", "3号楼门口")
    await page.fill("#report-description", "路灯坏了，晚上很黑")
    await page.set_input_files("#report-photos", files=[{"name": "a.txt", "mimeType": "image/png", "buffer": b"hello"}])
    await page.click("#report-form button[type=submit]")
    await expect(page.locator("#message")).to_have_text("照片只能是 JPG、PNG 或 WebP 格式的图片，请重新选择")
    await expect(page.locator("#my-reports .empty")).to_be_visible()  # nothing was filed

    await page.fill("#report-place", "3号楼门口")
    await page.fill("#report-description", "路灯坏了，晚上很黑")
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024)
    await page.set_input_files("#report-photos", files=[{"name": "big.png", "mimeType": "image/png", "buffer": big}])
    await page.click("#report-form button[type=submit]")
    await expect(page.locator("#message")).to_have_text("照片太大了，每张不能超过 5 MB")

    async def attach_to_gallery(photos: list[bytes]) -> None:
        await page.fill("#report-place", "3号楼门口")
        await page.fill("#report-description", "路灯坏了，晚上很黑")
        files = [{"name": f"{n}.png", "mimeType": "image/png", "buffer": data} for n, data in enumerate(photos)]
        await page.set_input_files("#report-photos-more", files=files)
        await page.click("#report-form button[type=submit]")

    await attach_to_gallery([png()] * 4)
    await expect(page.locator("#message")).to_have_text("最多只能上传 3 张照片")
    await expect(page.locator("#my-reports .empty")).to_be_visible()

    await page.select_option("#report-category", "facility")
    await page.fill("#report-place", "3号楼门口")
    await page.fill("#report-description", "路灯坏了，晚上很黑")
    await page.set_input_files("#report-photos", files=[{"name": "lamp.png", "mimeType": "image/png", "buffer": png()}])
    await page.click("#report-form button[type=submit]")
    await expect(page.locator("#message")).to_have_text("上报成功，社区会尽快处理")
    await expect(page.locator("#report-status")).to_have_text("已提交，待受理")
    await page.wait_for_function(
        "() => { const img = document.querySelector('#report-photos img'); return img && img.naturalWidth === 8; }"
    )
    photo_url = await page.locator("#report-photos img").get_attribute("src")
    report_id = await page.locator("#report").get_attribute("data-report")
    await fits_the_phone(page)
    await screenshot(page, "23-report-filed")

    resolved = await community.admin.post(
        f"/api/v1/reports/{report_id}/resolve", json={"resolution": "已更换路灯，感谢反映"}
    )
    assert resolved.status_code == 200, resolved.text
    await page.reload()
    await expect(page.locator("#report-status")).to_have_text("已办结")
    await expect(page.locator("#report-answer")).to_contain_text("已更换路灯，感谢反映")
    await expect(page.locator("#report-trail")).to_contain_text("已办结")
    await screenshot(page, "24-report-answered")

    # Staff who reach the report see the photo through the API; another member gets nothing.
    read = (await community.admin.get(f"/api/v1/reports/{report_id}")).json()
    assert read["photos"] == ["1.png"]
    by_staff = await community.admin.get(f"/api/v1/reports/{report_id}/photos/1.png")
    assert by_staff.status_code == 200 and by_staff.headers["content-type"] == "image/png"
    assert by_staff.content == png()
    other = await community.client_for(neighbour["username"])
    assert (await other.get(f"/api/v1/reports/{report_id}/photos/1.png")).status_code == 404
    elsewhere = await community.org_unit("别的社区")
    outsider = await community.staff(elsewhere)
    assert (await outsider.get(f"/api/v1/reports/{report_id}/photos/1.png")).status_code == 404
    # The staff console shows it beside the report, to its own staff only.
    console = await signed_in_web(served, await staff_login(community, unit))
    console_elsewhere = await signed_in_web(served, await staff_login(community, elsewhere))
    try:
        listing = await console.get("/admin/reports")
        shown = await console.get(f"/admin/reports/{report_id}/photos/1.png")
        refused = await console_elsewhere.get(f"/admin/reports/{report_id}/photos/1.png")
    finally:
        await console.aclose()
        await console_elsewhere.aclose()
    assert f'src="/admin/reports/{report_id}/photos/1.png"' in listing.text
    assert shown.status_code == 200 and shown.content == png()
    assert refused.status_code == 404

    await switch_to(page, neighbour["username"])
    assert photo_url is not None
    answer = await page.request.get(photo_url)
    assert answer.status in (403, 404)
    assert (await page.request.get(f"/member/reports/{report_id}")).status in (403, 404)


async def test_an_in_service_member_registers_claims_a_post_and_is_told_when_check_in_opens(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    street = await community.org_unit("城东街道", kind="street")
    home = await community.org_unit("幸福社区", parent_id=street)
    member = await community.member(home, name="孙在职", login=True, party_status="in_service")

    await sign_in(page, member["username"])
    await page.click("#go-registration")
    await expect(page.locator("#registration-state")).to_contain_text("还没有到居住地社区报到")
    await page.select_option("#registration-community", home)
    await page.fill("#registration-workplace", "区税务局")
    await page.click("#registration-form button[type=submit]")
    await expect(page.locator("#message")).to_have_text("报到成功，等待社区确认")
    await expect(page.locator("#registration-state")).to_contain_text("已向幸福社区报到")
    await expect(page.locator("#registration-state")).to_contain_text("等待社区确认")
    confirmed = await community.admin.post(
        "/api/v1/registrations", json={"member_id": member["id"], "community_id": home, "workplace": "区税务局"}
    )
    assert confirmed.status_code == 200, confirmed.text
    await page.reload()
    await expect(page.locator("#registration-state")).to_contain_text("社区已确认")
    await fits_the_phone(page)
    await screenshot(page, "25-registered")

    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, home, rule)
    await page.goto("/member/posts")
    row = page.locator(f"#open-posts li[data-post='{post['id']}']")
    await expect(row).to_contain_text("文明监督岗")
    await row.locator("button").click()
    await expect(page.locator("#message")).to_have_text("已提交认领，等待工作人员审核")
    await expect(page.locator("#my-posts")).to_contain_text("待审核")
    await expect(row).to_contain_text("待审核")
    claims = (await community.admin.get(f"/api/v1/posts/{post['id']}/holders")).json()["items"]
    approved = await community.admin.post(f"/api/v1/post-claims/{claims[0]['id']}/approve")
    assert approved.status_code == 200, approved.text

    shift = await one_shift(community.admin, post, member["id"], 3, 5)
    await page.reload()
    await expect(page.locator("#my-posts")).to_contain_text("在岗")
    shift_row = page.locator(f"#my-shifts li[data-shift='{shift}']")
    starts = (await community.admin.get(f"/api/v1/posts/{post['id']}/shifts")).json()["items"][0]["starts_at"]
    zone = ZoneInfo("Asia/Shanghai")
    opens = (datetime.fromisoformat(starts) - timedelta(minutes=20)).astimezone(zone)
    day = "" if opens.date() == datetime.now(zone).date() else f"{opens.month}月{opens.day}日 "
    await expect(shift_row).to_contain_text(f"签到将于 {day}{opens:%H:%M} 开放（开始前 20 分钟）")
    await shift_row.locator("button").click()
    told = f"还不能签到：签到将于 {day}{opens:%H:%M} 开放（开始前 20 分钟）"
    await expect(page.locator("#message")).to_have_text(told)
    await page.click("[data-tab=activities]")  # the activities tab's shift list says the same
    await page.locator(f"#shift-list li[data-shift='{shift}'] button").click()
    await expect(page.locator("#message")).to_have_text(told)
    assert datetime.fromisoformat(starts) > datetime.now(UTC)
    await fits_the_phone(page)
    await screenshot(page, "26-post-claimed-shift-not-open")

    await page.goto("/member/posts")
    await page.click("#language")
    await expect(page.locator("#posts h1")).to_have_text("Duty posts")
    await expect(page.locator("#my-posts")).to_contain_text("Holding")
    await expect(shift_row).to_contain_text("Check-in opens")
    await page.goto("/member/registration")
    await expect(page.locator("#registration-state")).to_contain_text("confirmed by the community")
    await fits_the_phone(page)


async def test_redemption_lines_say_what_was_redeemed_where_and_no_line_reads_zero(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    from tests.merchants.test_redemption_flow import shop

    unit = await community.org_unit()
    member = await community.member(unit, name="周兑换", login=True)
    await community.adjust(member["id"], 100, "志愿服务奖励")
    clerk, _, reward_id = await shop(community, unit, stock=5)
    phone = await community.client_for(member["username"])
    kept = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 2})).json()
    cancelled = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()
    assert (await phone.post(f"/api/v1/me/redemptions/{cancelled['id']}/cancel")).status_code == 200
    fulfilled = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": kept["code"]})
    assert fulfilled.status_code == 200, fulfilled.text

    said = [line["description"] for line in (await phone.get("/api/v1/me/ledger")).json()["items"]]
    assert said == [
        "兑换完成，用去冻结的 40 分（兑换核销 大米5斤 × 2（红星超市））",
        "兑换未完成，20 分已退回（会员取消兑换: 大米5斤 × 1（红星超市））",
        "兑换冻结 20 分，待商户核销（兑换 大米5斤 × 1（红星超市））",
        "兑换冻结 40 分，待商户核销（兑换 大米5斤 × 2（红星超市））",
        "积分调整（志愿服务奖励）",
    ]

    await sign_in(page, member["username"])
    history = page.locator("#history li")
    await expect(history).to_have_count(5)
    await expect(history.nth(0)).to_contain_text("兑换完成，用去冻结的 40 分")
    await expect(history.nth(0)).to_contain_text("红星超市")
    await expect(history.nth(0).locator(".amount")).to_have_text("已用 40")
    await expect(history.nth(1).locator(".amount")).to_have_text("+20")
    await expect(history.nth(2).locator(".amount")).to_have_text("-20")
    amounts = await page.locator("#history .amount").all_text_contents()
    assert "0" not in [amount.strip() for amount in amounts]
    await fits_the_phone(page)
    await screenshot(page, "27-history-redemptions")


async def test_photos_are_added_through_the_api_by_the_reporter_only_and_checked(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="吴上报", login=True)
    neighbour = await community.member(unit, name="郑邻居", login=True)
    phone = await community.client_for(member["username"])
    other = await community.client_for(neighbour["username"])
    report = {"category": "sanitation", "place": "垃圾站", "description": "满了"}
    filed = await phone.post("/api/v1/reports", json=report)
    assert filed.status_code == 201, filed.text
    photos = f"/api/v1/reports/{filed.json()['id']}/photos"

    def upload(*contents: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
        return [("photos", (f"{n}.png", data, "image/png")) for n, data in enumerate(contents)]

    added = await phone.post(photos, files=upload(png(), png(4, 4)))
    assert added.status_code == 201, added.text
    assert added.json()["photos"] == ["1.png", "2.png"]
    assert (await phone.post(photos, files=upload(png(), png()))).json()["code"] == "too_many_photos"
    not_image = await phone.post(photos, files=upload(b"GIF89a not allowed"))
    assert (not_image.status_code, not_image.json()["code"]) == (400, "not_an_image")
    assert (await other.post(photos, files=upload(png()))).status_code == 404
    assert (await other.get(f"{photos}/1.png")).status_code == 404
    assert (await phone.get(f"{photos}/2.png")).content == png(4, 4)

    rejected = await community.admin.post(f"/api/v1/reports/{filed.json()['id']}/reject", json={"reason": "重复"})
    assert rejected.status_code == 200, rejected.text
    assert (await phone.post(photos, files=upload(png()))).status_code == 409
