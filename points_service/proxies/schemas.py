"""What goes over the wire about acting for someone else (代办)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from points_service.auth.schemas import Role
from points_service.proxies.models import ProxyAppointment


class Actor(msgspec.Struct):
    """Who acted for the member, as shown on the record: staff by login name, a proxy member by name
    (masked unless staff are looking)."""

    account_id: uuid.UUID
    role: Role
    name: str


class Proxy(msgspec.Struct):
    """An appointment: `proxy_member_id` acts for `member_id`, or for everyone in `org_unit_id`'s subtree."""

    id: uuid.UUID
    proxy_member_id: uuid.UUID
    member_id: uuid.UUID | None
    org_unit_id: uuid.UUID | None
    created_at: datetime


class ProxyPage(msgspec.Struct):
    items: list[Proxy]
    next_cursor: str | None


def proxy_answer(appointment: ProxyAppointment) -> Proxy:
    return Proxy(
        appointment.id,
        appointment.proxy_member_id,
        appointment.member_id,
        appointment.org_unit_id,
        appointment.created_at,
    )
