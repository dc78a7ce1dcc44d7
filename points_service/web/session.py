"""A page's session: the API's own access and refresh tokens, kept in HttpOnly, SameSite=Lax cookies
(Secure by web/cookies.py) instead of an Authorization header. An expired access token is renewed with the
refresh token, which rotates as it does for the API; anything else means: sign in again.

One `PageSession` per page (the clerk's counter, the staff console), each with its own cookie names,
cookie path and idea of who may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.datastructures import State
from litestar.response import Redirect

from points_service.auth.deps import auth_service
from points_service.auth.principal import Principal
from points_service.auth.service import TokenPair
from points_service.errors import DomainError, Unauthenticated
from points_service.web.cookies import set_page_cookie


class SignInRequired(Exception):
    """No usable session: the page answers with a redirect to its sign-in form."""


class PasswordChangeFirst(Exception):
    """The account must change its password before anything else: the page shows only that form."""


@dataclass(frozen=True)
class PageSession:
    access_cookie: str
    refresh_cookie: str
    cookie_path: str
    sign_in_path: str
    refresh_cookie_seconds: int
    allows: Callable[[Principal], bool]

    @property
    def _renewed(self) -> str:
        return f"{self.access_cookie}:renewed"

    def principal_of(self, principal: Principal) -> Principal:
        if not self.allows(principal):
            raise SignInRequired()
        return principal

    async def principal(self, request: Request[Any, Any, Any], state: State) -> Principal:
        """The signed-in user, from the session cookie; renews it once when the access token expired."""
        access = request.cookies.get(self.access_cookie)
        if access:
            try:
                return self.principal_of(await state.account_states.principal_of(state.access_tokens, access))
            except Unauthenticated:
                pass
        refresh = request.cookies.get(self.refresh_cookie)
        if not refresh:
            raise SignInRequired()
        try:
            # A transaction of its own: the rotation must stand even if this request's work is refused.
            async with state.side_session_factory() as session, session.begin():
                pair = await auth_service(session, state).refresh(refresh)
        except DomainError as error:
            raise SignInRequired() from error
        request.state[self._renewed] = pair
        return self.principal_of(state.access_tokens.decode(pair.access_token))

    def set(self, request: Request[Any, Any, Any], response: Response[Any], pair: TokenPair) -> None:
        for key, value, max_age in (
            (self.access_cookie, pair.access_token, pair.expires_in),
            (self.refresh_cookie, pair.refresh_token, self.refresh_cookie_seconds),
        ):
            set_page_cookie(request, response, key=key, value=value, max_age=max_age, path=self.cookie_path)

    def clear(self, response: Response[Any]) -> None:
        for key in (self.access_cookie, self.refresh_cookie):
            response.delete_cookie(key=key, path=self.cookie_path)

    def keep_renewed(self, request: Request[Any, Any, Any], response: Response[Any]) -> None:
        """Hand the browser the tokens `principal` renewed during this request, if it did."""
        pair = request.state.get(self._renewed)
        if isinstance(pair, TokenPair):
            self.set(request, response, pair)

    def redirect_to_sign_in(self, request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
        ended = request.cookies.get(self.refresh_cookie)
        response = Redirect(f"{self.sign_in_path}?ended=1" if ended else self.sign_in_path, status_code=303)
        self.clear(response)
        return response
