"""What redemptions take and give: a member's order, a redemption just written, the counter's view,
and a redemption as it goes over the wire."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from merchants.redemptions.codes import display
from merchants.redemptions.models import Redemption


@dataclass(frozen=True)
class RedeemRequest:
    member_id: uuid.UUID
    reward_id: uuid.UUID
    quantity: int


@dataclass(slots=True)
class NewRedemption:
    """A redemption a batch has just written: the row's values, not an ORM instance (building eight
    instrumented instances cost more CPU than the rest of the batch's own Python)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    reward_id: uuid.UUID
    merchant_id: uuid.UUID
    member_id: uuid.UUID
    quantity: int
    points: int
    code: str
    status: str
    expires_at: datetime
    hold_transaction_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True)
class CounterView:
    """What the clerk sees before handing over: never the member's full name."""

    redemption: Redemption
    reward_title: str
    member_name: str
    status: str
    merchant_status: str


def redemption_body(
    redemption: Redemption | NewRedemption, status: str, reward_title: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": redemption.id,
        "code": display(redemption.code),
        "status": status,
        "points": redemption.points,
        "quantity": redemption.quantity,
        "expires_at": redemption.expires_at,
        "created_at": redemption.created_at,
        "reward": {"id": redemption.reward_id, **({"title": reward_title} if reward_title else {})},
    }
    return body
