"""What redemptions take and give: a member's order, a redemption just written, the counter's view,
and redemptions as they go over the wire (what a member, a clerk and the counter read back)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import msgspec

from merchants.redemptions.codes import display
from merchants.redemptions.models import Redemption

RedemptionStatus = Literal["pending", "fulfilled", "cancelled", "expired"]


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


class RewardRef(msgspec.Struct):
    id: uuid.UUID
    # Absent where the reward's title was not read with the redemption (a redemption just written).
    title: str | msgspec.UnsetType = msgspec.UNSET


class RedemptionView(msgspec.Struct):
    id: uuid.UUID
    code: str
    status: RedemptionStatus
    points: int
    quantity: int
    expires_at: datetime
    created_at: datetime
    reward: RewardRef


class MaskedMember(msgspec.Struct):
    display_name: str


class CounterRedemption(RedemptionView):
    """What a clerk's look-up answers: the redemption and the member's masked name."""

    member: MaskedMember


class RedemptionPage(msgspec.Struct):
    items: list[RedemptionView]
    next_cursor: str | None


class RedemptionState(msgspec.Struct):
    id: uuid.UUID
    status: RedemptionStatus


class FulfilledRedemption(msgspec.Struct):
    id: uuid.UUID
    status: RedemptionStatus
    points: int


def redemption_body(
    redemption: Redemption | NewRedemption, status: str, reward_title: str | None = None
) -> RedemptionView:
    return RedemptionView(
        id=redemption.id,
        code=display(redemption.code),
        status=status,
        points=redemption.points,
        quantity=redemption.quantity,
        expires_at=redemption.expires_at,
        created_at=redemption.created_at,
        reward=RewardRef(redemption.reward_id, reward_title or msgspec.UNSET),
    )
