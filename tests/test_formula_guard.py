"""Every CSV and XLSX the service writes keeps typed text from running as a formula: text that starts with
= + - @ a tab or a carriage return goes out with a leading ' (a text cell in XLSX), numbers stay numbers,
and an import reads the guarded text back to the original."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from points_service.exports import csv_text, read_back, xlsx_bytes
from points_service.org.sheets import read_sheet
from tests.admin.test_evaluations import evaluation
from tests.conftest import PASSWORD, Community, unique

DANGEROUS = ["=1+2", "+SUM(A1)", "-2+3", "@A1", "\tx", "\rx"]


def test_csv_and_xlsx_guard_text_and_keep_numbers() -> None:
    rows: list[list[object]] = [[text, -5, 2.5] for text in DANGEROUS] + [["张三", 0, "普通"]]
    parsed = list(csv.reader(io.StringIO(csv_text(["名称", "数", "小数"], rows).lstrip("\ufeff"), newline="")))
    assert [row[0] for row in parsed[1:]] == [f"'{text}" for text in DANGEROUS] + ["张三"]
    assert parsed[1][1:] == ["-5", "2.5"]

    sheet = load_workbook(io.BytesIO(xlsx_bytes("表", ["名称", "数", "小数"], rows))).worksheets[0]
    cells = list(sheet.iter_rows(min_row=2))
    # (XML stores a carriage return as a line feed; the guard in front is what matters.)
    assert [row[0].value.replace("\n", "\r") for row in cells] == [f"'{text}" for text in DANGEROUS] + ["张三"]
    assert all(row[0].data_type == "s" for row in cells)
    assert (cells[0][1].value, cells[0][1].data_type, cells[0][2].value) == (-5, "n", 2.5)

    assert [read_back(f"'{text}") for text in DANGEROUS] == DANGEROUS
    assert read_back("'引号开头") == "'引号开头"


def test_an_import_reads_guarded_cells_back() -> None:
    content = csv_text(["姓名", "手机号"], [['=HYPERLINK("http://x","y")', "13800138000"]]).encode()
    sheet = read_sheet(content, "a.csv")
    assert sheet.rows[0].get("姓名") == '=HYPERLINK("http://x","y")'


async def test_evaluation_exports_guard_member_names(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10)
    member = await community.member(unit, name="=1+2")
    assert (await community.award(member["id"], rule)).status_code == 201
    evaluation_id = await evaluation(community, unit, [{"metric": "earned_points", "weight": 1}], 1)
    base = f"/api/v1/admin/evaluations/{evaluation_id}"
    await community.admin.post(f"{base}/run")

    as_csv = await community.admin.get(f"{base}/results", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[1][1] == "'=1+2"
    as_xlsx = await community.admin.get(f"{base}/results", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    name = sheet.cell(row=4, column=2)
    assert (name.value, name.data_type) == ("'=1+2", "s")
    assert sheet.cell(row=4, column=1).value == 1


async def test_statement_and_settlement_guard_reward_titles(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    await community.adjust(member["id"], 100)
    title = "=cmd|' /C calc'!A0"
    clerk_username = unique("clerk")
    created = await community.admin.post(
        "/api/v1/admin/merchants",
        json={
            "name": "@SUM(1,2)",
            "address": "幸福路1号",
            "org_unit_id": unit,
            "username": clerk_username,
            "password": PASSWORD,
        },
    )
    assert created.status_code == 201, created.text
    clerk = await community.client_for(clerk_username)
    reward = await clerk.post("/api/v1/merchant/rewards", json={"title": title, "points_price": 20})
    reward_id = reward.json()["id"]
    phone = await community.client_for(member["username"])
    code = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()["code"]
    assert (await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": code})).status_code == 200

    statement = await clerk.get("/api/v1/merchant/statement", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(statement.content.decode("utf-8-sig"))))
    assert rows[1][2:] == [f"'{title}", "1", "20"]
    settlement = await community.admin.get("/api/v1/admin/settlements", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(settlement.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["'@SUM(1,2)"]
    assert rows[1][2:] == ["1", "20"]
