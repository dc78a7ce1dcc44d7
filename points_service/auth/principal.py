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
    # The account's token generation when the token was issued (auth/revocation.py).
    generation: int = 0
    # Issued while the account must change its password: such a token may do little else.
    password_change_required: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
