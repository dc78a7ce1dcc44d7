"""The approval queue as it goes over the wire."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from admin.approvals.providers import PendingItem


class PersonRef(msgspec.Struct):
    id: uuid.UUID
    name: str | None


class OrgUnitRef(msgspec.Struct):
    id: uuid.UUID
    name: str


class PendingView(msgspec.Struct):
    """Something waiting for a staff decision; `link` is the API path that shows or decides it."""

    kind: str
    id: uuid.UUID
    created_at: datetime
    member: PersonRef | None
    unit: OrgUnitRef
    summary: str
    link: str


class PendingPage(msgspec.Struct):
    items: list[PendingView]
    next_cursor: str | None


def pending_body(item: PendingItem) -> PendingView:
    member = PersonRef(item.member_id, item.member_name) if item.member_id is not None else None
    return PendingView(
        kind=item.kind,
        id=item.id,
        created_at=item.created_at,
        member=member,
        unit=OrgUnitRef(item.unit_id, item.unit_name),
        summary=item.summary,
        link=item.link,
    )
