"""The clerk's session on the merchant page (points_service.web.session.PageSession): cookies scoped
to /merchant, and only clerks of a merchant may use it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import State

from points_service.auth.principal import Principal
from points_service.auth.service import TokenPair
from points_service.web.session import PageSession, SignInRequired, auth_service

ACCESS_COOKIE = "rp_merchant_session"
REFRESH_COOKIE = "rp_merchant_refresh"
LANGUAGE_COOKIE = "rp_lang"
COOKIE_PATH = "/merchant"
# A counter shift: the clerk signs in again the next day, although the refresh token itself lives longer.
REFRESH_COOKIE_SECONDS = 12 * 3600
SIGN_IN_PATH = "/merchant/login"

CLERK_SESSION = PageSession(
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    COOKIE_PATH,
    SIGN_IN_PATH,
    REFRESH_COOKIE_SECONDS,
    allows=lambda principal: principal.role == "clerk" and principal.merchant_id is not None,
)

__all__ = ["SignInRequired", "auth_service"]


def clerk_of(principal: Principal) -> Principal:
    return CLERK_SESSION.principal_of(principal)


async def provide_page_clerk(request: Request[Any, Any, Any], state: State) -> Principal:
    return await CLERK_SESSION.principal(request, state)


def set_session(request: Request[Any, Any, Any], response: Response[Any], pair: TokenPair) -> None:
    CLERK_SESSION.set(request, response, pair)


def clear_session(response: Response[Any]) -> None:
    CLERK_SESSION.clear(response)


def keep_renewed_session(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    CLERK_SESSION.keep_renewed(request, response)


def redirect_to_sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    return CLERK_SESSION.redirect_to_sign_in(request, exc)
