"""Dependency providers shared by every package's routers: who is calling, and the services they use."""

from __future__ import annotations

import uuid

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.guards import current_principal
from points_service.auth.principal import Principal
from points_service.idempotency.service import IdempotentWrites
from points_service.leaderboards.upkeep import publish_or_mark_stale
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import EarnedChange, LedgerService
from points_service.org.service import OrgService
from points_service.tenancy.periods import TenantClock
from points_service.tenancy.service import tenant_clock


async def provide_principal(request: Request) -> Principal:
    return current_principal(request)


async def provide_clock(db_session: AsyncSession, principal: Principal, state: State) -> TenantClock:
    # A tenant's time zone is set when the tenant is created and no endpoint changes it, so each
    # process reads it once instead of on every request.
    clocks: dict[uuid.UUID, TenantClock] = state.setdefault("tenant_clocks", {})
    if principal.tenant_id not in clocks:
        clocks[principal.tenant_id] = await tenant_clock(db_session, principal.tenant_id)
    return clocks[principal.tenant_id]


async def provide_ledger(db_session: AsyncSession, principal: Principal, state: State) -> LedgerService:
    clock = await provide_clock(db_session, principal, state)
    tenant_id = principal.tenant_id

    async def publish_earned(changes: list[EarnedChange]) -> None:
        await publish_or_mark_stale(state.redis, tenant_id, changes)

    return LedgerService(LedgerRepository(db_session, tenant_id), clock, principal.account_id, publish_earned)


async def provide_org(db_session: AsyncSession, principal: Principal) -> OrgService:
    return OrgService(db_session, principal)


async def provide_idempotent(db_session: AsyncSession, principal: Principal) -> IdempotentWrites:
    return IdempotentWrites(db_session, principal.tenant_id, principal.account_id)
