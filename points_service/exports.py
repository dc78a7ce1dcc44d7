"""File exports staff open in Excel."""

from __future__ import annotations

import csv
import io


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    """UTF-8 with BOM so Excel on a Chinese Windows opens it right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
