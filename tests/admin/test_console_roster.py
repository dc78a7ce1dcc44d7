"""The console's roster pages: an import through the page in Chromium (a dry run whose errors are shown,
then a clean import with logins and their printable sheet), finding a member by pinyin initials, the
member's page; and over plain HTTP, adding, editing and moving a member, units added and renamed,
template and export downloads."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.admin.test_console import CSRF_FIELD, browser, desk, screenshot, sign_in, staff_login
from tests.admin.test_console_work import signed_in_web
from tests.admin.test_imports import HEADER, phone, xlsx_file
from tests.conftest import Community, ServedApp
from tests.merchants.test_merchant_page import PHONE, fits_the_phone

__all__ = ["browser", "desk"]


async def test_staff_import_a_roster_through_the_page_and_find_a_member(
    community: Community, desk: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.org_unit("幸福小区", "area", unit)
    await sign_in(desk, await staff_login(community, unit))
    wrong = tmp_path / "名单-有错.xlsx"
    wrong.write_bytes(
        xlsx_file(
            [
                ["欧阳娜娜", phone(), "幸福小区", "在职党员", "", ""],
                ["李四", "12345", "幸福小区", "", "", ""],
                ["王五", phone(), "没有这个小区", "", "", ""],
            ]
        )
    )
    clean = tmp_path / "名单.xlsx"
    clean.write_bytes(
        xlsx_file(
            [
                ["欧阳娜娜", phone(), "幸福小区", "在职党员", "楼栋长", ""],
                ["李四", phone(), "幸福小区", "", "", ""],
                ["王五", phone(), "", "退休党员", "", ""],
            ]
        )
    )

    await desk.click("nav a[href='/admin/imports']")
    await desk.set_input_files("#file", str(wrong))
    await desk.click("#import-form button[type=submit]")
    await expect(desk.locator(".alert")).to_contain_text("2 处错误")
    await expect(desk.locator("#import-errors tbody tr")).to_have_count(2)
    await expect(desk.locator("#import-errors tr[data-row='3']")).to_contain_text("手机号")
    await expect(desk.locator("#import-errors tr[data-row='4']")).to_contain_text("没有这个小区")
    await screenshot(desk, "20-import-errors")

    await desk.set_input_files("#file", str(clean))
    await desk.check("#create_logins")
    await desk.click("#import-form button[type=submit]")
    await expect(desk.locator(".notice")).to_contain_text("检查通过")
    await expect(desk.locator("#counts .created")).to_have_text("3")
    await desk.click("#confirm-import button[type=submit]")
    await expect(desk.locator(".notice")).to_contain_text("导入完成")
    await expect(desk.locator("#slips .slip")).to_have_count(3)
    await expect(desk.locator("#slips .slip").first).to_contain_text("欧阳娜娜")
    await screenshot(desk, "21-login-slips")
    username = await desk.locator("#slips .slip .username").first.inner_text()
    password = await desk.locator("#slips .slip .password").first.inner_text()
    signed_in = await community.anonymous.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert signed_in.status_code == 200, signed_in.text

    await desk.click("nav a[href='/admin/members']")
    await expect(desk.locator("#members tbody tr")).to_have_count(3)
    await desk.fill("#q", "oy")
    await desk.click("#member-search button[type=submit]")
    await expect(desk.locator("#members tbody tr")).to_have_count(1)
    await expect(desk.locator("#members tbody tr")).to_contain_text("欧阳娜娜")
    await desk.click("#members a")
    await expect(desk.locator("#member-name")).to_contain_text("欧阳娜娜")
    await expect(desk.locator("#member-name")).to_contain_text("幸福小区")
    await expect(desk.locator("#account-actions")).to_be_visible()
    await expect(desk.locator("#login")).to_contain_text(username)
    await desk.set_viewport_size(PHONE)
    await fits_the_phone(desk)
    await screenshot(desk, "22-member-page")


async def test_staff_add_edit_and_move_a_member_and_name_units(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    area = await community.org_unit("幸福小区", "area", unit)
    web = await signed_in_web(served, await staff_login(community, unit))

    async def token(path: str) -> str:
        found = CSRF_FIELD.search((await web.get(path)).text)
        assert found
        return found.group(1)

    number = phone()
    csrf = await token("/admin/members/new")
    added = await web.post(
        "/admin/members",
        data={"_csrf_token": csrf, "name": "张三", "phone": number, "party_status": "retired", "org_unit_id": unit},
    )
    assert added.status_code == 303, added.text
    member_path = added.headers["location"]
    page = await web.get(member_path)
    assert "成员已添加" in page.text and "张三" in page.text

    bad = await web.post(
        f"{member_path}/edit",
        data={"_csrf_token": csrf, "back": member_path, "name": "张三丰", "phone": "123", "party_status": "none"},
    )
    assert "11 位数字" in (await web.get(bad.headers["location"])).text
    edited = await web.post(
        f"{member_path}/edit",
        data={"_csrf_token": csrf, "back": member_path, "name": "张三丰", "phone": number, "party_status": "none"},
    )
    assert "已保存" in (await web.get(edited.headers["location"])).text
    moved = await web.post(f"{member_path}/move", data={"_csrf_token": csrf, "back": member_path, "org_unit_id": area})
    assert "已调动" in (await web.get(moved.headers["location"])).text
    member_id = member_path.rsplit("/", 1)[1]
    body = (await community.admin.get(f"/api/v1/admin/members/{member_id}")).json()
    assert (body["name"], body["org_unit_id"], body["party_status"]) == ("张三丰", area, "none")
    found = await web.get("/admin/members", params={"q": "zsf"})
    assert "张三丰" in found.text
    assert "没有找到" in (await web.get("/admin/members", params={"q": "qq"})).text

    renamed = await web.post(
        f"/admin/units/{area}/rename", data={"_csrf_token": csrf, "back": f"/admin/?unit={area}", "name": "幸福家园"}
    )
    assert "已改名" in (await web.get(renamed.headers["location"])).text
    created = await web.post(
        "/admin/units",
        data={"_csrf_token": csrf, "back": f"/admin/?unit={area}", "parent_id": area, "name": "3号楼", "kind": "group"},
    )
    shown = await web.get(created.headers["location"])
    assert "组织已添加" in shown.text and "3号楼" in shown.text and "幸福家园" in shown.text
    assert f'href="/admin/members?unit={area}"' in shown.text

    english = await web.get("/admin/imports", params={"lang": "en"})
    assert "Import and export" in english.text and "Member roster template" in english.text
    await web.get("/admin/imports", params={"lang": "zh-CN"})
    template = await web.get("/admin/imports/template/members.xlsx")
    rows = list(load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 2
    exported = await web.get("/admin/members/export", params={"unit": unit, "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][:4] == ("张三丰", number, "幸福家园", "群众")
    await web.aclose()


async def test_staff_cannot_open_a_member_outside_their_subtree(community: Community, served: ServedApp) -> None:
    mine = await community.org_unit("红旗社区")
    other = await community.org_unit("东风社区")
    stranger = await community.member(other, "外人")
    web = await signed_in_web(served, await staff_login(community, mine))
    assert (await web.get(f"/admin/members/{stranger['id']}")).status_code == 404
    assert (await web.get(f"/admin/members/{uuid.uuid4()}")).status_code == 404
    assert "外人" not in (await web.get("/admin/members")).text
    await web.aclose()
