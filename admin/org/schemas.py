from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, cast

import msgspec

from points_service.auth.models import LoginAccount
from points_service.org.models import Member, OrgUnit

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
OrgUnitKind = Literal["district", "street", "community", "area", "branch", "group", "household", "grid"]
PartyStatus = Literal["none", "in_service", "retired", "mobile"]
Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Phone = Annotated[str, msgspec.Meta(min_length=5, max_length=20, pattern=r"^\+?[0-9-]{5,20}$")]


class OrgUnitCreate(msgspec.Struct):
    name: Name
    kind: OrgUnitKind
    parent_id: uuid.UUID | None = None


class MemberCreate(msgspec.Struct):
    name: Name
    phone: Phone
    org_unit_id: uuid.UUID
    party_status: PartyStatus = "none"
    cadre_position: Annotated[str, msgspec.Meta(min_length=1, max_length=50)] | None = None
    username: Username | None = None
    password: Password | None = None


class StaffCreate(msgspec.Struct):
    username: Username
    password: Password
    role: Literal["staff", "admin"]
    org_unit_id: uuid.UUID | None = None


class OrgUnitView(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: OrgUnitKind
    parent_id: uuid.UUID | None


class ChildUnit(msgspec.Struct):
    id: uuid.UUID
    name: str
    kind: OrgUnitKind


class OrgUnitWithChildren(OrgUnitView):
    children: list[ChildUnit]


class MemberView(msgspec.Struct):
    id: uuid.UUID
    name: str
    phone: str
    org_unit_id: uuid.UUID
    party_status: PartyStatus
    cadre_position: str | None
    created_at: datetime
    # Switched off: cannot sign in, earns nothing, off the leaderboards; points and history stay.
    active: bool = True


class MemberPage(msgspec.Struct):
    items: list[MemberView]
    next_cursor: str | None


class StaffView(msgspec.Struct):
    id: uuid.UUID
    username: str
    role: Literal["staff", "admin"]
    org_unit_id: uuid.UUID | None
    active: bool = True


# The answers read the rows' columns of the same names (litestar-fullstack's `to_schema`).


def unit_body(unit: OrgUnit) -> OrgUnitView:
    return msgspec.convert(unit, OrgUnitView, from_attributes=True)


def unit_with_children(unit: OrgUnit, children: list[OrgUnit]) -> OrgUnitWithChildren:
    listed = [msgspec.convert(child, ChildUnit, from_attributes=True) for child in children]
    return OrgUnitWithChildren(**msgspec.structs.asdict(unit_body(unit)), children=listed)


def member_body(member: Member) -> MemberView:
    return msgspec.convert(member, MemberView, from_attributes=True)


def staff_body(account: LoginAccount) -> StaffView:
    role = cast(Literal["staff", "admin"], account.role)
    return StaffView(account.id, account.username, role, account.org_unit_id, account.is_active)
