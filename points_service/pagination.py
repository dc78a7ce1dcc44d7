"""Cursor lists (docs/api.md, "Lists"): opaque cursors, `limit` 1–200, `{"items", "next_cursor"}`."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from litestar.params import Parameter

from points_service.errors import InvalidInput

Limit = Annotated[int, Parameter(ge=1, le=200, description="Page length, 1-200")]
Cursor = Annotated[str | None, Parameter(max_length=200, description="From `next_cursor`")]


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("a cursor's time carries its offset")
        moment.astimezone(UTC)  # OverflowError for times PostgreSQL cannot take (e.g. year 1 at +14:00)
        return moment, uuid.UUID(row_id)
    except (ValueError, TypeError, OverflowError) as error:
        raise InvalidInput("cursor", "is not a cursor this list gave out") from error


Item = TypeVar("Item")


def next_page(
    items: list[Item], limit: int, key: Callable[[Item], tuple[datetime, uuid.UUID]]
) -> tuple[list[Item], str | None]:
    """A page's items and `next_cursor`, for a list's page Struct (`items`, `next_cursor`): `items` holds up
    to limit + 1 rows; the extra row only says whether there is a next page."""
    next_cursor = encode_cursor(*key(items[limit - 1])) if len(items) > limit else None
    return items[:limit], next_cursor
