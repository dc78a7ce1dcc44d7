from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Role = Literal["member", "clerk", "staff", "admin"]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=False):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class RefreshRequest(msgspec.Struct):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]


class TokenResponse(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    role: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
