"""What goes over the wire for micro-wishes. The resident's name is masked and their contact hidden for
every member but the one who holds the wish (they need to find the resident); staff see both."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from points_service.activities.schemas import RuleCode
from points_service.auth.principal import Principal
from points_service.org.names import mask_name
from points_service.wishes import models

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=r"\S")]
WishStatus = Literal["open", "claimed", "fulfilled", "verified", "cancelled"]


class WishCreate(msgspec.Struct):
    org_unit_id: uuid.UUID
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    resident_name: Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"\S")]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    resident_contact: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    # Staff only: the rule that pays it (members' wishes get theirs when staff verify).
    rule_code: RuleCode | None = None


class Fulfil(msgspec.Struct):
    note: Text
    member_id: uuid.UUID | None = None


class Verify(msgspec.Struct):
    rule_code: RuleCode | None = None


class Reason(msgspec.Struct):
    reason: Text


class Wish(msgspec.Struct):
    id: uuid.UUID
    org_unit_id: uuid.UUID
    # Set in lists; null where the answer is about one wish.
    org_unit_name: str | None
    title: str
    description: str
    # Masked (张*) for members other than the one who holds the wish.
    resident_name: str
    # Null for members other than the one who holds the wish.
    resident_contact: str | None
    status: WishStatus
    claimed_by: uuid.UUID | None
    claimed_at: datetime | None
    fulfilment_note: str | None
    fulfilled_at: datetime | None
    verified_at: datetime | None
    transaction_id: uuid.UUID | None
    created_at: datetime


class WishPage(msgspec.Struct):
    items: list[Wish]
    next_cursor: str | None


class WishPaid(Wish):
    """A verified wish and the payment of the member who fulfilled it (`transaction_id` is the payment)."""

    member_id: uuid.UUID
    points: int
    balance: int


def wish_fields(wish: models.Wish, viewer: Principal, unit_name: str | None = None) -> dict[str, Any]:
    """A wish's fields as `viewer` may see them, for `Wish` and the answers that extend it."""
    sees_resident = viewer.role in ("staff", "admin") or (
        viewer.member_id is not None and wish.claimed_by == viewer.member_id
    )
    return {
        "id": wish.id,
        "org_unit_id": wish.org_unit_id,
        "org_unit_name": unit_name,
        "title": wish.title,
        "description": wish.description,
        "resident_name": wish.resident_name if sees_resident else mask_name(wish.resident_name),
        "resident_contact": wish.resident_contact if sees_resident else None,
        "status": wish.status,
        "claimed_by": wish.claimed_by,
        "claimed_at": wish.claimed_at,
        "fulfilment_note": wish.fulfilment_note,
        "fulfilled_at": wish.fulfilled_at,
        "verified_at": wish.verified_at,
        "transaction_id": wish.transaction_id,
        "created_at": wish.created_at,
    }


def wish_answer(wish: models.Wish, viewer: Principal, unit_name: str | None = None) -> Wish:
    return Wish(**wish_fields(wish, viewer, unit_name))
