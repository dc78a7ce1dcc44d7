from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Scope

from points_service.auth.revocation import require_password_changed
from points_service.errors import Unauthenticated

_AUTHORIZATION = b"authorization"


def _authorization(scope: Scope) -> str | None:
    # Straight from the scope's header list (names arrive lower-cased, as ASGI requires): building
    # Litestar's `Headers` for one header cost more than the token check it leads to.
    for name, value in scope["headers"]:
        if name == _AUTHORIZATION:
            return value.decode("latin-1")
    return None


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Reads the bearer token when there is one; guards decide what an anonymous caller may do."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scope = connection.scope
        header = _authorization(scope)
        if not header:
            return AuthenticationResult(user=None, auth=None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <access_token>'")
        state = scope["litestar_app"].state
        principal = await state.account_states.principal_of(state.access_tokens, token.strip())
        require_password_changed(principal, scope.get("method", "GET"), scope["path"])
        return AuthenticationResult(user=principal, auth=token)
