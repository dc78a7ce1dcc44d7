"""Spreadsheet imports of org units and members, the member export, and the formula guard of every file."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.models import LoginAccount
from tests.conftest import Community

Sessions = async_sessionmaker[AsyncSession]

HEADER = ["姓名", "手机号", "所属组织", "党员身份", "职务", "登录名"]


def phone() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def phones(count: int) -> list[str]:
    """`count` different phone numbers: drawn one by one, 2,000 of them repeat one in fifty sheets."""
    start = uuid.uuid4().int % (10**8 - count)
    return [f"139{start + offset:08d}" for offset in range(count)]


def csv_file(rows: list[list[Any]], header: list[str] = HEADER, bom: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def xlsx_file(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def import_members(
    client: httpx.AsyncClient, content: bytes, org_unit_id: str, name: str = "名单.xlsx", **fields: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/admin/imports/members",
        files={"file": (name, content)},
        data={"org_unit_id": org_unit_id, **fields},
    )


async def unit_tree(community: Community) -> tuple[str, str, str]:
    """A community with 幸福小区 and its 1号楼党小组 below it: (community, area, group)."""
    top = await community.org_unit("红旗社区")
    area = await community.org_unit("幸福小区", "area", top)
    group = await community.org_unit("1号楼党小组", "group", area)
    return top, area, group


async def members_of(community: Community, unit: str) -> list[dict[str, Any]]:
    response = await community.admin.get("/api/v1/admin/members", params={"org_unit_id": unit, "limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_org_unit_sheet_creates_the_tree_once(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    sheet = xlsx_file(
        [["幸福小区", "小区", ""], ["1号楼党小组", "党小组", "幸福小区"], ["第一网格", "grid", ""]],
        header=["名称", "类型", "上级"],
    )

    async def send(dry_run: str) -> httpx.Response:
        return await community.admin.post(
            "/api/v1/admin/imports/org-units",
            files={"file": ("units.xlsx", sheet)},
            data={"parent_id": top, "dry_run": dry_run},
        )

    dry = await send("true")
    assert dry.status_code == 200, dry.text
    assert dry.json() == {"dry_run": True, "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": []}
    children = (await community.admin.get(f"/api/v1/admin/org-units/{top}")).json()["children"]
    assert children == []

    real = await send("false")
    assert real.json()["created"] == 3
    children = (await community.admin.get(f"/api/v1/admin/org-units/{top}")).json()["children"]
    assert sorted((child["name"], child["kind"]) for child in children) == [("幸福小区", "area"), ("第一网格", "grid")]
    area = next(child["id"] for child in children if child["name"] == "幸福小区")
    below = (await community.admin.get(f"/api/v1/admin/org-units/{area}")).json()["children"]
    assert [(child["name"], child["kind"]) for child in below] == [("1号楼党小组", "group")]

    again = await send("false")
    assert again.json() == {"dry_run": False, "rows": 3, "created": 0, "updated": 0, "unchanged": 3, "errors": []}


async def test_clean_member_sheet_creates_members_in_their_units(community: Community) -> None:
    top, area, group = await unit_tree(community)
    phones = [phone(), phone(), phone()]
    sheet = xlsx_file(
        [
            ["张三", phones[0], "幸福小区/1号楼党小组", "在职党员", "楼栋长", None],
            ["李四", int(phones[1]), "幸福小区", "退休党员", None, None],
            ["王五", phones[2], "", "", None, None],
        ]
    )
    dry = await import_members(community.admin, sheet, top)
    assert dry.json() == {"dry_run": True, "rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": []}
    assert await members_of(community, top) == []

    real = await import_members(community.admin, sheet, top, dry_run="false")
    assert real.status_code == 200, real.text
    assert real.json()["created"] == 3
    members = {member["name"]: member for member in await members_of(community, top)}
    assert members["张三"]["org_unit_id"] == group
    assert members["张三"]["party_status"] == "in_service"
    assert members["张三"]["cadre_position"] == "楼栋长"
    assert members["李四"]["org_unit_id"] == area
    assert members["李四"]["phone"] == phones[1]
    assert members["王五"]["org_unit_id"] == top
    assert members["王五"]["party_status"] == "none"
    # Each imported member has a ledger account: staff can award them at once.
    rule = await community.rule(points=5)
    assert (await community.award(members["张三"]["id"], rule)).status_code == 201


async def test_sheet_with_four_mistakes_answers_each_and_writes_nothing(community: Community) -> None:
    top, _, _ = await unit_tree(community)
    good = phone()
    sheet = csv_file(
        [
            ["张三", good, "幸福小区", "在职党员", "", ""],
            ["李四", "1380013800", "幸福小区", "", "", ""],
            ["王五", phone(), "不存在的小区", "", "", ""],
            ["赵六", phone(), "", "党员", "", ""],
            ["钱七", good, "", "", "", ""],
        ]
    )
    for dry_run in ("true", "false"):
        response = await import_members(community.admin, sheet, top, name="名单.csv", dry_run=dry_run)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["code"] == "import_invalid"
        assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [
            (3, "手机号", "invalid_phone"),
            (4, "所属组织", "unknown_unit"),
            (5, "党员身份", "invalid_value"),
            (6, "手机号", "duplicate_in_file"),
        ]
        assert all(any("\u4e00" <= char <= "\u9fff" for char in e["message"]) for e in body["errors"])
    assert await members_of(community, top) == []


async def test_same_sheet_twice_is_unchanged_and_an_edit_is_updated(community: Community) -> None:
    top, _, _ = await unit_tree(community)
    phones = [phone() for _ in range(4)]
    rows = [[f"成员{n}", p, "幸福小区", "群众", "", ""] for n, p in enumerate(phones)]
    first = await import_members(community.admin, xlsx_file(rows), top, dry_run="false")
    assert first.json()["created"] == 4
    second = await import_members(community.admin, xlsx_file(rows), top, dry_run="false")
    assert second.json() == {"dry_run": False, "rows": 4, "created": 0, "updated": 0, "unchanged": 4, "errors": []}

    rows[0][0] = "改名了"
    rows[1][2] = "幸福小区/1号楼党小组"
    rows[2][3] = "流动党员"
    third = await import_members(community.admin, xlsx_file([*rows, ["新人", phone(), "", "", "", ""]]), top)
    assert third.json() == {"dry_run": True, "rows": 5, "created": 1, "updated": 3, "unchanged": 1, "errors": []}
    written = await import_members(community.admin, xlsx_file(rows), top, dry_run="false")
    assert (written.json()["updated"], written.json()["unchanged"]) == (3, 1)
    names = {member["name"] for member in await members_of(community, top)}
    assert "改名了" in names and "成员0" not in names


async def test_staff_row_for_a_member_outside_their_subtree_is_out_of_reach(community: Community) -> None:
    mine = await community.org_unit("红旗社区")
    other = await community.org_unit("东风社区")
    stranger = await community.member(other, "外人")
    staff = await community.staff(mine)
    sheet = xlsx_file([["自己人", phone(), "", "", "", ""], ["外人", stranger["phone"], "", "", "", ""]])
    response = await import_members(staff, sheet, mine, dry_run="false")
    assert response.status_code == 422, response.text
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == [(3, "手机号", "out_of_reach")]
    # And a unit outside their reach is not theirs to import into at all.
    assert (await import_members(staff, sheet, other)).status_code == 404
    # Staff default to their own unit.
    clean = await staff.post(
        "/api/v1/admin/imports/members", files={"file": ("a.xlsx", xlsx_file([["自己人", phone(), "", "", "", ""]]))}
    )
    assert clean.status_code == 200, clean.text
    assert clean.json()["created"] == 1


async def test_csv_with_and_without_bom_reads_the_same(community: Community) -> None:
    top, _, group = await unit_tree(community)
    for bom in (True, False):
        number = phone()
        content = csv_file([["孙八", number, "幸福小区/1号楼党小组", "在职党员", "", ""]], bom=bom)
        response = await import_members(community.admin, content, top, name="名单.csv", dry_run="false")
        assert response.status_code == 200, response.text
        assert response.json()["created"] == 1
        found = await community.admin.get("/api/v1/admin/members", params={"q": number[-4:], "org_unit_id": group})
        assert number in [member["phone"] for member in found.json()["items"]]


async def test_more_than_twenty_thousand_rows_is_refused(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    content = csv_file([["某人", f"13{n:09d}", "", "", "", ""] for n in range(20_001)])
    response = await import_members(community.admin, content, top, name="big.csv")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"


async def test_a_file_over_ten_mib_is_refused(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    # Over the API's usual 1 MiB but within 10 MiB: a roster with a wide column nobody imports.
    wide = csv_file(
        [["张三", phone(), "", "", "", "", "备注" * 30_000] for _ in range(1)]
        + [[f"某{n}", phone(), "", "", "", "", "备注" * 30_000] for n in range(20)],
        header=[*HEADER, "备注"],
    )
    assert (await import_members(community.admin, wide, top, name="wide.csv")).status_code == 200
    response = await import_members(community.admin, b"x" * (10 * 1024 * 1024 + 1), top, name="big.csv")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_sheet_without_the_phone_column_is_an_error_on_row_one(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    content = xlsx_file([["张三", "幸福小区"]], header=["姓名", "所属组织"])
    response = await import_members(community.admin, content, top)
    assert response.status_code == 422, response.text
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == [(1, "手机号", "required")]


async def test_export_then_import_is_all_unchanged(community: Community) -> None:
    top, area, group = await unit_tree(community)
    await community.member(group, "张三", party_status="retired", cadre_position="楼栋长", login=True)
    await community.member(area, "李四")
    await community.member(top, '=HYPERLINK("http://x","y")')
    for fmt in ("xlsx", "csv"):
        exported = await community.admin.get("/api/v1/admin/members/export", params={"org_unit_id": top, "format": fmt})
        assert exported.status_code == 200, exported.text
        response = await import_members(community.admin, exported.content, top, name=f"export.{fmt}")
        assert response.status_code == 200, response.text
        assert response.json() == {"dry_run": True, "rows": 3, "created": 0, "updated": 0, "unchanged": 3, "errors": []}


async def test_a_formula_name_goes_out_as_text_and_comes_back_the_same(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    formula = '=HYPERLINK("http://x","y")'
    member = await community.member(top, formula)
    xlsx = await community.admin.get("/api/v1/admin/members/export", params={"org_unit_id": top})
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s"
    assert cell.value == "'" + formula
    assert sheet.cell(row=2, column=2).value == member["phone"]
    text = (
        await community.admin.get("/api/v1/admin/members/export", params={"org_unit_id": top, "format": "csv"})
    ).text
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1][0] == "'" + formula

    # Imported back, the guard comes off: the same person, nothing changed; a new name of that kind too.
    back = await import_members(community.admin, xlsx.content, top, dry_run="false")
    assert back.json()["unchanged"] == 1
    newcomer = phone()
    sheet.append(["'+SUM(1,2)", newcomer, "", "", "", ""])
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    await import_members(community.admin, buffer.getvalue(), top, dry_run="false")
    names = {m["phone"]: m["name"] for m in await members_of(community, top)}
    assert names == {member["phone"]: formula, newcomer: "+SUM(1,2)"}


async def test_create_logins_hands_out_temporary_passwords(community: Community, sessions: Sessions) -> None:
    top = await community.org_unit("红旗社区")
    first, second = phone(), phone()
    username = f"imp{uuid.uuid4().hex[:8]}"
    sheet = xlsx_file([["张三", first, "", "", "", username], ["李四", second, "", "", "", ""]])
    response = await import_members(community.admin, sheet, top, dry_run="false", create_logins="true")
    assert response.status_code == 200, response.text
    logins = response.json()["logins"]
    assert [(login["row"], login["username"]) for login in logins] == [(2, username), (3, second)]
    for login in logins:
        signed_in = await community.anonymous.post(
            "/api/v1/auth/login", json={"username": login["username"], "password": login["temporary_password"]}
        )
        assert signed_in.status_code == 200, signed_in.text
    async with sessions() as session:
        flags = await session.scalars(
            select(LoginAccount.password_change_required).where(
                LoginAccount.username.in_([login["username"] for login in logins])
            )
        )
        assert list(flags) == [True, True]
    # A second run finds their logins: none again.
    again = await import_members(community.admin, sheet, top, dry_run="false", create_logins="true")
    assert again.json()["logins"] == []


async def test_a_login_name_another_account_holds_is_a_conflict(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    holder = await community.member(top, "占用者", login=True)
    sheet = xlsx_file([["张三", phone(), "", "", "", holder["username"]]])
    response = await import_members(community.admin, sheet, top, create_logins="true")
    assert response.status_code == 422
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == [(2, "登录名", "conflict")]


async def test_concurrent_imports_of_one_sheet_create_each_member_once(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    numbers = phones(200)
    sheet = xlsx_file([[f"成员{n}", p, "", "", "", ""] for n, p in enumerate(numbers)])
    answers = await asyncio.gather(*(import_members(community.admin, sheet, top, dry_run="false") for _ in range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4
    assert sum(answer.json()["created"] for answer in answers) == 200
    assert sum(answer.json()["unchanged"] for answer in answers) == 600
    listed = await members_of(community, top)
    assert len(listed) == 200
    assert sorted(m["phone"] for m in listed) == sorted(numbers)


async def test_org_unit_sheet_errors_name_rows_and_columns(community: Community) -> None:
    top = await community.org_unit("红旗社区")
    sheet = csv_file(
        [["幸福小区", "小区", ""], ["", "网格", ""], ["2号楼", "楼栋", "幸福小区"], ["3号楼", "党小组", "没有的小区"]],
        header=["名称", "类型", "上级"],
    )
    response = await community.admin.post(
        "/api/v1/admin/imports/org-units",
        files={"file": ("units.csv", sheet)},
        data={"parent_id": top, "dry_run": "false"},
    )
    assert response.status_code == 422, response.text
    assert [(e["row"], e["column"], e["code"]) for e in response.json()["errors"]] == [
        (3, "名称", "required"),
        (4, "类型", "invalid_value"),
        (5, "上级", "unknown_unit"),
    ]
    assert (await community.admin.get(f"/api/v1/admin/org-units/{top}")).json()["children"] == []


async def test_staff_import_units_only_below_their_own(community: Community) -> None:
    mine = await community.org_unit("红旗社区")
    other = await community.org_unit("东风社区")
    staff = await community.staff(mine)
    sheet = csv_file([["幸福小区", "area", ""]], header=["名称", "类型", "上级"])
    refused = await staff.post(
        "/api/v1/admin/imports/org-units", files={"file": ("u.csv", sheet)}, data={"parent_id": other}
    )
    assert refused.status_code == 404
    done = await staff.post(
        "/api/v1/admin/imports/org-units", files={"file": ("u.csv", sheet)}, data={"dry_run": "false"}
    )
    assert done.json()["created"] == 1
    children = (await community.admin.get(f"/api/v1/admin/org-units/{mine}")).json()["children"]
    assert [child["name"] for child in children] == ["幸福小区"]
