"""Access tokens: JWT, HS256 pinned, short-lived, issuer and audience checked, exp and iat required."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from points_service.auth.principal import Principal
from points_service.errors import Unauthenticated

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "tid", "role"]
# Tokens already verified, kept until they expire: verifying costs a tenth of a balance read's CPU,
# and a phone sends the same token many times in its 15 minutes. Bounded; emptied when full. Whether
# the account still stands behind a token (not switched off, no newer password) is asked of
# `revocation.AccountStates`, which remembers an account's answer for a few seconds only.
VERIFIED_TOKENS_KEPT = 20_000


class AccessTokens:
    def __init__(self, secret: str, issuer: str, audience: str, lifetime_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self.lifetime_seconds = lifetime_seconds
        self._verified: dict[str, tuple[Principal, int]] = {}

    def issue(self, principal: Principal) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(principal.account_id),
            "tid": str(principal.tenant_id),
            "role": principal.role,
            "iat": now,
            "exp": now + timedelta(seconds=self.lifetime_seconds),
            "jti": uuid.uuid4().hex,
            "gen": principal.generation,
        }
        if principal.password_change_required:
            claims["pcr"] = True
        for claim, value in (
            ("mid", principal.member_id),
            ("ou", principal.org_unit_id),
            ("mch", principal.merchant_id),
        ):
            if value is not None:
                claims[claim] = str(value)
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> Principal:
        """The caller a token names, once its signature, issuer, audience and lifetime check out.
        A token seen before is answered from memory until its `exp`, which is checked again."""
        known = self._verified.get(token)
        if known is not None:
            principal, expires_at = known
            if time.time() < expires_at:
                return principal
            del self._verified[token]
        principal, expires_at = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, int]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": REQUIRED_CLAIMS},
            )
            principal = Principal(
                account_id=uuid.UUID(claims["sub"]),
                tenant_id=uuid.UUID(claims["tid"]),
                role=str(claims["role"]),
                member_id=_optional_uuid(claims.get("mid")),
                org_unit_id=_optional_uuid(claims.get("ou")),
                merchant_id=_optional_uuid(claims.get("mch")),
                generation=int(claims.get("gen", 0)),
                password_change_required=claims.get("pcr") is True,
            )
            return principal, int(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise Unauthenticated("The access token is missing, malformed, expired or not ours") from error


def _optional_uuid(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value is not None else None
