"""Results as a file staff can print: CSV (UTF-8 with BOM, for Excel) and XLSX, headers in Chinese."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from admin.evaluations.metrics import METRICS
from admin.evaluations.models import Evaluation
from admin.evaluations.service import ResultRow
from points_service.exports import csv_text, xlsx_row

GRADE_LABELS = {"excellent": "优秀", "qualified": "合格", "basically_qualified": "基本合格", "unqualified": "不合格"}
GRADE_FILLS = {"excellent": "C6EFCE", "qualified": "DDEBF7", "basically_qualified": "FFEB9C", "unqualified": "FFC7CE"}


# The column names of the results, on the console's page and in both files alike (所属组织 and 职务 as
# the member import names them).
UNIT_COLUMN = "所属组织"
POSITION_COLUMN = "职务"


def result_columns(evaluation: Evaluation) -> list[str]:
    metrics = [METRICS[item["metric"]].label for item in evaluation.metrics]
    return ["排名", "姓名", UNIT_COLUMN, POSITION_COLUMN, "得分", "等级", f"前{evaluation.top_n}名", *metrics]


def _table(evaluation: Evaluation, rows: list[ResultRow]) -> tuple[list[str], list[list[object]]]:
    metrics = [item["metric"] for item in evaluation.metrics]
    body = [
        [
            row.result.rank,
            row.name,
            row.unit or "",
            row.result.cadre_position or "",
            float(row.result.score),
            GRADE_LABELS[row.result.grade],
            "是" if row.result.top_n else "",
            # No value (nobody rated the member) is an empty cell, not a 0.
            *("" if (value := row.result.raw.get(m)) is None else value for m in metrics),
        ]
        for row in rows
    ]
    return result_columns(evaluation), body


def results_csv(evaluation: Evaluation, rows: list[ResultRow]) -> str:
    return csv_text(*_table(evaluation, rows))


def results_xlsx(evaluation: Evaluation, rows: list[ResultRow]) -> bytes:
    header, body = _table(evaluation, rows)
    book = Workbook()
    sheet = book.active
    sheet.title = "考评结果"
    xlsx_row(sheet, [evaluation.name])
    xlsx_row(sheet, [f"{evaluation.period_start} 至 {evaluation.period_end}"])
    xlsx_row(sheet, header)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for values, row in zip(body, rows, strict=True):
        xlsx_row(sheet, values)
        sheet.cell(row=sheet.max_row, column=6).fill = PatternFill("solid", fgColor=GRADE_FILLS[row.result.grade])
    sheet.freeze_panes = "A4"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
