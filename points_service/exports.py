"""File exports staff open in Excel."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    """UTF-8 with BOM so Excel on a Chinese Windows opens it right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
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


def _is_string(schema: object) -> bool:
    return isinstance(schema, Schema) and schema.type == OpenAPIType.STRING
