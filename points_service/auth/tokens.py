"""Access tokens: JWT, HS256 pinned, short-lived, issuer and audience checked, exp and iat required."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt

from points_service.auth.principal import Principal
from points_service.errors import Unauthenticated

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "tid", "role"]


class AccessTokens:
    def __init__(self, secret: str, issuer: str, audience: str, lifetime_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self.lifetime_seconds = lifetime_seconds

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
        }
        for claim, value in (
            ("mid", principal.member_id),
            ("ou", principal.org_unit_id),
            ("mch", principal.merchant_id),
        ):
            if value is not None:
                claims[claim] = str(value)
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": REQUIRED_CLAIMS},
            )
            return Principal(
                account_id=uuid.UUID(claims["sub"]),
                tenant_id=uuid.UUID(claims["tid"]),
                role=str(claims["role"]),
                member_id=_optional_uuid(claims.get("mid")),
                org_unit_id=_optional_uuid(claims.get("ou")),
                merchant_id=_optional_uuid(claims.get("mch")),
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise Unauthenticated("The access token is missing, malformed, expired or not ours") from error


def _optional_uuid(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value is not None else None
