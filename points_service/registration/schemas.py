"""What goes over the wire for in-service registration (双报到)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import msgspec

from points_service.registration.models import ServiceRegistration
from points_service.registration.service import Registered


class RegistrationCreate(msgspec.Struct):
    community_id: uuid.UUID
    workplace: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    registered_on: date | None = None
    member_id: uuid.UUID | None = None  # staff name the member; members register themselves


class Registration(msgspec.Struct):
    member_id: uuid.UUID
    community_id: uuid.UUID
    workplace: str
    registered_on: date


class RegisteredMember(Registration):
    name: str
    community_name: str
    # Whether the member took part in an activity of the community in the period.
    took_part: bool


class RegistrationReport(msgspec.Struct):
    registered: int
    took_part: int
    # took_part / registered, four decimals; null when nobody registered.
    participation_rate: float | None
    # The first 2,000 registrations; the counts above cover all.
    items: list[RegisteredMember]


def registration_fields(registration: ServiceRegistration) -> dict[str, Any]:
    """A registration's fields, for `Registration` and the answers that extend it."""
    return {
        "member_id": registration.member_id,
        "community_id": registration.community_id,
        "workplace": registration.workplace,
        "registered_on": registration.registered_on,
    }


def registration_answer(registration: ServiceRegistration) -> Registration:
    return Registration(**registration_fields(registration))


def registered_member(row: Registered) -> RegisteredMember:
    return RegisteredMember(
        **registration_fields(row.registration),
        name=row.name,
        community_name=row.community_name,
        took_part=row.took_part,
    )
