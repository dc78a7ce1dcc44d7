"""What goes over the wire about the signed-in account itself."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

from points_service.auth.schemas import Role

PartyStatus = Literal["none", "in_service", "retired", "mobile"]


class UnitRef(msgspec.Struct):
    id: uuid.UUID
    name: str


class Me(msgspec.Struct):
    """Any role: who is signed in. A member's answer adds their member record (`id` and `name` are then the
    member's); other roles' answers leave those fields out."""

    id: uuid.UUID
    role: Role
    name: str
    username: str
    member_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    org_unit: UnitRef | msgspec.UnsetType = msgspec.UNSET
    party_status: PartyStatus | msgspec.UnsetType = msgspec.UNSET
    cadre_position: str | msgspec.UnsetType | None = msgspec.UNSET


class Balance(msgspec.Struct):
    available: int
    held: int
    earned_total: int
    earned_this_month: int
    earned_this_year: int
