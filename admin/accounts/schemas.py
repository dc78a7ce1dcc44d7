"""What goes over the wire when staff manage accounts: members' edits, resets, staff switches."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec

from admin.org.schemas import Name, PartyStatus, Phone


class MemberPatch(msgspec.Struct):
    """Only the fields sent change; `"cadre_position": null` clears it; `org_unit_id` moves the member."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType = msgspec.UNSET
    org_unit_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    party_status: PartyStatus | msgspec.UnsetType = msgspec.UNSET
    cadre_position: Annotated[str, msgspec.Meta(min_length=1, max_length=50)] | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class StaffPatch(msgspec.Struct):
    active: bool | None = None
    org_unit_id: uuid.UUID | None = None
    role: Literal["staff", "admin"] | None = None


class TemporaryLoginView(msgspec.Struct):
    """Shown this once: hand it to the member, who must choose a new password at the next sign-in."""

    username: str
    temporary_password: str


def sent_fields(data: msgspec.Struct) -> dict[str, Any]:
    fields = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not msgspec.UNSET}
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    return fields
