"""Staff changes of points as they go over the wire (a posted transaction answers
points_service.ledger.schemas.PointsPosted)."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

MAX_INT = 1_000_000_000
Note = Annotated[str, msgspec.Meta(max_length=500)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]
Quantity = Annotated[float, msgspec.Meta(gt=0, le=1000)]


class AwardRequest(msgspec.Struct):
    member_id: uuid.UUID
    rule_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    quantity: Quantity = 1
    note: Note | None = None


class BulkAwardRequest(msgspec.Struct):
    rule_code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    member_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=1000)]
    quantity: Quantity = 1
    note: Note | None = None


class AdjustmentRequest(msgspec.Struct):
    member_id: uuid.UUID
    amount: Annotated[int, msgspec.Meta(ge=-MAX_INT, le=MAX_INT)]
    reason: Reason


class ReverseRequest(msgspec.Struct):
    reason: Reason


class BulkAwarded(msgspec.Struct):
    """One transaction per member, in the order the members were given."""

    count: int
    points_total: int
    transaction_ids: list[uuid.UUID]
