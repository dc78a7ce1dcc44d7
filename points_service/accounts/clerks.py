"""Shop clerks as the staff console sees them: the shops of the caller's subtree with their clerks, and
switching a clerk off or on.

The marketplace (merchants/) owns shops and clerks, and the console (admin/) never imports it; so the core
names what the console needs here, the marketplace puts its implementation in `state.shop_clerks` when
the process starts (merchants/plugin.py), and without it the console simply lists no shops.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.auth.revocation import AccountStates


@dataclass(frozen=True)
class ClerkLine:
    id: uuid.UUID
    username: str
    active: bool


@dataclass(frozen=True)
class ShopWithClerks:
    id: uuid.UUID
    name: str
    unit_name: str
    # pending | active | suspended: the shop's own standing, shown in words.
    status: str
    clerks: list[ClerkLine]


class ShopClerks(Protocol):
    async def shops(
        self, session: AsyncSession, principal: Principal, name: str | None, limit: int
    ) -> list[ShopWithClerks]:
        """Shops of the caller's subtree (their names containing `name`, if given), by name."""
        ...

    async def set_clerk_active(
        self,
        session: AsyncSession,
        principal: Principal,
        merchant_id: uuid.UUID,
        clerk_id: uuid.UUID,
        active: bool,
        states: AccountStates | None,
    ) -> ClerkLine:
        """Switch a clerk of a shop in the caller's reach off or on (404 otherwise)."""
        ...


def shop_clerks(state: Any) -> ShopClerks | None:
    """The marketplace's clerks, if it is part of this application."""
    found: ShopClerks | None = state.get("shop_clerks") if hasattr(state, "get") else None
    return found
