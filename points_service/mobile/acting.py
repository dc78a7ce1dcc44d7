"""Whom a proxy acts for (代办) on the member page. The choice is kept in a cookie and checked again by
`ProxyService.acting_for` on every request, so a stale or forged choice acts for nobody. The page's
principal provider keeps the answer on the request, so every screen's frame (the rewards tab of the
merchants package included) shows "正在为 王** 代办" without asking for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.errors import DomainError
from points_service.mobile.neighbours import member_of
from points_service.org.names import mask_name
from points_service.org.service import OrgService
from points_service.proxies.service import ProxyService

AnyRequest = Request[Any, Any, Any]
ACTING_COOKIE = "rp_member_acting"
# Where the principal provider keeps the answer for the frame and the handlers of this request.
ACTING_KEY = "member_acting"


@dataclass(frozen=True)
class ActingFor:
    member_id: uuid.UUID
    # Masked (王**), as the page shows whom the proxy acts for.
    name: str


async def acting_for(
    request: AnyRequest, db_session: AsyncSession, principal: Principal, proxies: ProxyService | None = None
) -> ActingFor | None:
    """Whom the signed-in proxy acts for now, if they still may; None when they act for themselves."""
    raw = request.cookies.get(ACTING_COOKIE)
    try:
        member_id = uuid.UUID(raw) if raw else None
    except ValueError:
        return None
    if member_id is None or member_id == principal.member_id:
        return None
    if proxies is None:
        proxies = ProxyService(db_session, principal, OrgService(db_session, principal))
    try:
        await proxies.acting_for(member_id)
    except DomainError:
        return None
    found = await member_of(db_session, principal.tenant_id, member_id)
    return ActingFor(member_id, mask_name(found.name)) if found else None


def acting_now(request: AnyRequest) -> ActingFor | None:
    """The answer the principal provider kept for this request (None before it ran or when acting for oneself)."""
    found = request.state.get(ACTING_KEY)
    return found if isinstance(found, ActingFor) else None


def acted_member(request: AnyRequest) -> uuid.UUID | None:
    """The member an action of this request is for: the one acted for, or None for the caller themselves."""
    acting = acting_now(request)
    return acting.member_id if acting else None
