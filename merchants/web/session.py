"""The clerk's session on the page: the API's own access and refresh tokens, kept in HttpOnly,
SameSite=Lax cookies (Secure over https) instead of an Authorization header. An expired access token is
renewed with the refresh token, which rotates as it does for the API; anything else means: sign in again."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import State
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.auth.rate_limit import LoginLimiter
from points_service.auth.service import AuthService, TokenPair
from points_service.errors import DomainError, Unauthenticated

ACCESS_COOKIE = "rp_merchant_session"
REFRESH_COOKIE = "rp_merchant_refresh"
LANGUAGE_COOKIE = "rp_lang"
COOKIE_PATH = "/merchant"
# A counter shift: the clerk signs in again the next day, although the refresh token itself lives longer.
REFRESH_COOKIE_SECONDS = 12 * 3600
SIGN_IN_PATH = "/merchant/login"
_RENEWED = "merchant_page_renewed_tokens"


class SignInRequired(Exception):
    """No usable clerk session: the page answers with a redirect to the sign-in form."""


def auth_service(db_session: AsyncSession, state: State) -> AuthService:
    return AuthService(
        db_session,
        state.access_tokens,
        LoginLimiter(state.redis),
        state.side_session_factory,
        state.settings.refresh_token_days,
    )


def clerk_of(principal: Principal) -> Principal:
    if principal.role != "clerk" or principal.merchant_id is None:
        raise SignInRequired()
    return principal


async def provide_page_clerk(request: Request[Any, Any, Any], state: State) -> Principal:
    """The signed-in clerk, from the session cookie; renews it once when the access token expired."""
    access = request.cookies.get(ACCESS_COOKIE)
    if access:
        try:
            return clerk_of(state.access_tokens.decode(access))
        except Unauthenticated:
            pass
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        raise SignInRequired()
    try:
        # A transaction of its own: the rotation must stand even if this request's work is refused.
        async with state.side_session_factory() as session, session.begin():
            pair = await auth_service(session, state).refresh(refresh)
    except DomainError as error:
        raise SignInRequired() from error
    request.state[_RENEWED] = pair
    return clerk_of(state.access_tokens.decode(pair.access_token))


def set_session(request: Request[Any, Any, Any], response: Response[Any], pair: TokenPair) -> None:
    secure = request.url.scheme == "https"
    for key, value, max_age in (
        (ACCESS_COOKIE, pair.access_token, pair.expires_in),
        (REFRESH_COOKIE, pair.refresh_token, REFRESH_COOKIE_SECONDS),
    ):
        response.set_cookie(
            key=key, value=value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure
        )


def clear_session(response: Response[Any]) -> None:
    for key in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(key=key, path=COOKIE_PATH)


def keep_renewed_session(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    """Hand the browser the tokens `provide_page_clerk` renewed during this request, if it did."""
    pair = request.state.get(_RENEWED)
    if isinstance(pair, TokenPair):
        set_session(request, response, pair)


def redirect_to_sign_in(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    response = Redirect(
        f"{SIGN_IN_PATH}?ended=1" if request.cookies.get(REFRESH_COOKIE) else SIGN_IN_PATH, status_code=303
    )
    clear_session(response)
    return response
