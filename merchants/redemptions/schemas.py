"""Redemptions as they go over the wire: what a member, a clerk and the counter read back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from merchants.redemptions.codes import display
from merchants.redemptions.models import Redemption
from merchants.redemptions.service import NewRedemption

RedemptionStatus = Literal["pending", "fulfilled", "cancelled", "expired"]


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
