from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the access token says. Scope checks load the rest from the database."""

    account_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    member_id: uuid.UUID | None = None
    org_unit_id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
