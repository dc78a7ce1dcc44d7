"""A month's settlement as it goes over the wire."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class StatementLineView(msgspec.Struct):
    id: uuid.UUID
    settled_at: datetime
    code: str
    reward_title: str
    quantity: int
    points: int


class Statement(msgspec.Struct):
    """One merchant's fulfilled redemptions in a month (YYYY-MM, tenant-local)."""

    month: str
    count: int
    points: int
    items: list[StatementLineView]


class MerchantRef(msgspec.Struct):
    id: uuid.UUID
    name: str


class MerchantTotalView(msgspec.Struct):
    merchant: MerchantRef
    count: int
    points: int


class Settlement(msgspec.Struct):
    """Every merchant's fulfilled count and points in a month."""

    month: str
    items: list[MerchantTotalView]
