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
    # True after a reset and for imported logins: until the password is changed, this pair may call only
    # GET /me, POST /me/password, /auth/refresh and /auth/logout.
    password_change_required: bool = False
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret


class PasswordChange(msgspec.Struct):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    # Length and "not the username" are checked by the service, so they answer with the contract's words.
    new_password: Annotated[str, msgspec.Meta(max_length=1024)]
