"""Role guards. Per-object checks (which member, which subtree) live in the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from points_service.auth.principal import Principal
from points_service.errors import Forbidden, Unauthenticated

Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


def current_principal(connection: ASGIConnection) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise Unauthenticated()
    return principal


def allow_roles(*roles: str) -> Guard:
    # Async, so Litestar calls it inline instead of handing it to a thread on every request.
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if current_principal(connection).role not in roles:
            raise Forbidden(f"This call is for: {', '.join(roles)}")

    return guard


require_member = allow_roles("member")
require_staff = allow_roles("staff", "admin")
require_admin = allow_roles("admin")
# Earning calls: members act for themselves (or as proxies), staff for members of their subtree.
member_or_staff = allow_roles("member", "staff", "admin")
require_any_role = allow_roles("member", "clerk", "staff", "admin")
