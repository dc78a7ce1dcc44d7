"""Ending sessions before their tokens expire: a new password, a reset, an account switched off.

Refresh tokens are rows, revoked in the same transaction as the change. Access tokens are signed and
checked without the database, so each carries its account's `token_generation` ("gen") and is good only
while the account is active and still at that generation. A change raises the generation, so every
token issued before it stops working, and the pair the change itself hands out works at once, even
within the same second (an issue time in whole seconds could not tell them apart).

Each process remembers an account's generation and whether it is active for `STATE_SECONDS`, so a
phone's requests cost one small read every few seconds rather than one each; a revocation therefore
reaches every process within that time. A token newer than what a process remembers (the fresh pair
of a change) makes it read again instead of refusing.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from points_service.auth.principal import Principal
from points_service.auth.tokens import AccessTokens
from points_service.database.reads import ReadPool
from points_service.errors import PasswordChangeRequired, Unauthenticated

# The promise is "within 5 seconds"; this leaves room for a read under load.
STATE_SECONDS = 3.0
STATES_KEPT = 50_000

ACCOUNT_STATE = "SELECT token_generation, is_active FROM login_accounts WHERE tenant_id = $1 AND id = $2"


@dataclass(frozen=True)
class AccountState:
    generation: int
    active: bool


class AccountStates:
    """Per process: is the account behind a token still active and at the token's generation?"""

    def __init__(self, pool: ReadPool, seconds: float = STATE_SECONDS) -> None:
        self._pool = pool
        self._seconds = seconds
        self._known: dict[uuid.UUID, tuple[AccountState | None, float]] = {}

    async def require_current(self, principal: Principal) -> None:
        """Refuses (401) a token of an account switched off, gone, or moved to a newer generation."""
        now = time.monotonic()
        known = self._known.get(principal.account_id)
        if known is None or known[1] <= now or (known[0] is not None and known[0].generation < principal.generation):
            found = await self._read(principal)
            if len(self._known) >= STATES_KEPT:
                self._known.clear()
            known = (found, now + self._seconds)
            self._known[principal.account_id] = known
        state = known[0]
        if state is None or not state.active or state.generation != principal.generation:
            raise Unauthenticated("This session has ended (password changed or account switched off): sign in again")

    def forget(self, account_id: uuid.UUID) -> None:
        """This process learns of a change at once; the others within `STATE_SECONDS`."""
        self._known.pop(account_id, None)

    async def principal_of(self, tokens: AccessTokens, token: str) -> Principal:
        """The caller a token names, if its signature checks out and its account still stands behind it."""
        principal = tokens.decode(token)
        await self.require_current(principal)
        return principal

    async def _read(self, principal: Principal) -> AccountState | None:
        row = await self._pool.fetchrow(ACCOUNT_STATE, principal.tenant_id, principal.account_id)
        return AccountState(int(row["token_generation"]), bool(row["is_active"])) if row is not None else None


# What a token that must change its password may still call (method, path below /api/v1).
WHILE_PASSWORD_CHANGE_REQUIRED = frozenset(
    {
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/me/password"),
        ("POST", "/api/v1/auth/refresh"),
        ("POST", "/api/v1/auth/logout"),
    }
)


def require_password_changed(principal: Principal, method: str, path: str) -> None:
    """403 `password_change_required` for every call but the few that lead to a new password."""
    if principal.password_change_required and (method, path.rstrip("/")) not in WHILE_PASSWORD_CHANGE_REQUIRED:
        raise PasswordChangeRequired("Change the password first (POST /api/v1/me/password)")
