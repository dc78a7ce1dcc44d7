from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from points_service.auth.revocation import require_password_changed
from points_service.errors import Unauthenticated


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    """Reads the bearer token when there is one; guards decide what an anonymous caller may do."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if not header:
            return AuthenticationResult(user=None, auth=None)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Authorization must be 'Bearer <access_token>'")
        state = connection.app.state
        principal = await state.account_states.principal_of(state.access_tokens, token.strip())
        require_password_changed(principal, connection.scope.get("method", "GET"), connection.scope["path"])
        return AuthenticationResult(user=principal, auth=token)
