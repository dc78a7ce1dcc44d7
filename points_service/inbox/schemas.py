"""What goes over the wire about the member's messages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import msgspec

from points_service.inbox.models import MemberNotice, NoticeKind
from points_service.inbox.words import ZH_CN, say
from points_service.pagination import next_page


class Message(msgspec.Struct):
    id: uuid.UUID
    at: datetime
    kind: NoticeKind
    # The values the sentence is made of (points, a reward's or wish's title, a reason, a time).
    params: dict[str, Any]
    # The notice in words (Chinese), as the member page says it.
    text: str
    read: bool


class MessagePage(msgspec.Struct):
    items: list[Message]
    next_cursor: str | None
    unread: int


class MarkRead(msgspec.Struct):
    """Which messages to mark read: `ids`, or every unread one when `ids` is left out."""

    ids: list[uuid.UUID] | None = None


class MarkedRead(msgspec.Struct):
    marked: int
    unread: int


def message_page(notices: list[MemberNotice], limit: int, unread: int, local: Callable[[datetime], str]) -> MessagePage:
    items = [
        Message(
            notice.id,
            notice.created_at,
            cast(NoticeKind, notice.kind),
            notice.params,
            say(notice.kind, notice.params, ZH_CN, local),
            notice.read_at is not None,
        )
        for notice in notices
    ]
    page, cursor = next_page(items, limit, key=lambda item: (item.at, item.id))
    return MessagePage(page, cursor, unread)
