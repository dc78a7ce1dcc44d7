"""File exports staff open in Excel, and the one rule every file the service writes keeps: a cell of
text a person typed never runs as a formula (CSV injection). Excel, WPS and LibreOffice treat a cell
that starts with `=`, `+`, `-` or `@` as a formula, and a leading tab or carriage return can hide one;
such a cell goes out with a leading `'`, which spreadsheets show as "this is text", and an import
reads it back to the original (`read_back`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A cell as it may be written: text that a spreadsheet would run as a formula gets a leading `'`;
    numbers, dates and empty cells stay what they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def read_back(value: str) -> str:
    """The text a `safe_cell` wrote: the guard's `'` taken off again (and only that one)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_text(header: list[str], rows: Iterable[Sequence[object]]) -> str:
    """UTF-8 with BOM so Excel on a Chinese Windows opens it right; every cell through `safe_cell`."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def xlsx_row(sheet: Worksheet | WriteOnlyWorksheet, values: Sequence[object]) -> None:
    """Append one row to an openpyxl sheet. openpyxl stores a string that starts with `=` as a formula;
    after `safe_cell` none does, so every text is a text cell and numbers stay numbers."""
    sheet.append([safe_cell(value) for value in values])


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """One sheet: a header row, then the rows, every one through `xlsx_row`."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    xlsx_row(sheet, header)
    for row in rows:
        xlsx_row(sheet, row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download_headers(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def json_or_files(*media_types: str) -> type[Operation]:
    """The OpenAPI operation of a handler typed `Response[Struct | bytes]` that answers JSON, or a file
    of one of `media_types` when `?format=` asks for one. Litestar would list the bytes as a JSON
    string; the document says instead that they come as these files, so a generated client reads
    JSON as the Struct and a file as bytes."""

    @dataclass
    class JsonOrFiles(Operation):
        def __post_init__(self) -> None:
            for status, response in (self.responses or {}).items():
                if not status.startswith("2") or not isinstance(response, OpenAPIResponse) or not response.content:
                    continue
                answer = response.content.get("application/json")
                if answer is not None and isinstance(answer.schema, Schema) and answer.schema.one_of:
                    structured = [part for part in answer.schema.one_of if not _is_string(part)]
                    answer.schema = structured[0] if len(structured) == 1 else Schema(one_of=structured)
                file = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
                response.content.update({media_type: OpenAPIMediaType(schema=file) for media_type in media_types})

    return JsonOrFiles


def file_answers(*media_types: str) -> type[Operation]:
    """The OpenAPI operation of a handler that answers only a file, in one of `media_types` (`?format=`):
    each listed with a binary schema, instead of the one media type Litestar would name."""

    @dataclass
    class FileAnswers(Operation):
        def __post_init__(self) -> None:
            file = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            for status, response in (self.responses or {}).items():
                if status.startswith("2") and isinstance(response, OpenAPIResponse):
                    response.content = {media_type: OpenAPIMediaType(schema=file) for media_type in media_types}

    return FileAnswers


def _is_string(schema: object) -> bool:
    return isinstance(schema, Schema) and schema.type == OpenAPIType.STRING
