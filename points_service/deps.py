"""Dependency providers shared by every package's routers: who is calling, and the services they use."""

from __future__ import annotations

import uuid
from typing import TypeVar

from litestar import Request
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.guards import current_principal
from points_service.auth.principal import Principal
from points_service.earning import EarningContext, EarningService
from points_service.idempotency.service import IdempotentWrites
from points_service.leaderboards.upkeep import publish_or_mark_stale
from points_service.ledger.repository import LedgerRepository, read_tenant_timezone
from points_service.ledger.service import EarnedChange, LedgerService
from points_service.org.service import OrgService
from points_service.proxies.service import ProxyService
from points_service.rules.service import RuleService
from points_service.state import AppState
from points_service.tenancy.periods import TenantClock
from points_service.tenancy.service import DEFAULT_TIMEZONE


async def provide_principal(request: Request) -> Principal:
    return current_principal(request)


async def provide_clock(principal: Principal, state: AppState) -> TenantClock:
    return await tenant_clock_of(state, principal.tenant_id)


async def tenant_clock_of(state: AppState, tenant_id: uuid.UUID) -> TenantClock:
    """The tenant's clock. A tenant's time zone is set when the tenant is created and no endpoint
    changes it, so each process reads it once (on the read pool, so no session is needed)."""
    clocks = state.tenant_clocks
    if tenant_id not in clocks:
        clocks[tenant_id] = TenantClock(await read_tenant_timezone(state.read_pool, tenant_id) or DEFAULT_TIMEZONE)
    return clocks[tenant_id]


async def ledger_for(
    state: AppState, session: AsyncSession, tenant_id: uuid.UUID, actor_account_id: uuid.UUID | None
) -> LedgerService:
    """The ledger in `session`'s transaction, publishing earned points to the leaderboards after commit."""
    clock = await tenant_clock_of(state, tenant_id)

    async def publish_earned(changes: list[EarnedChange]) -> None:
        await publish_or_mark_stale(state.redis, tenant_id, changes)

    return LedgerService(LedgerRepository(session, tenant_id), clock, actor_account_id, publish_earned)


async def provide_ledger(db_session: AsyncSession, principal: Principal, state: AppState) -> LedgerService:
    return await ledger_for(state, db_session, principal.tenant_id, principal.account_id)


async def provide_org(db_session: AsyncSession, principal: Principal) -> OrgService:
    return OrgService(db_session, principal)


async def provide_idempotent(db_session: AsyncSession, principal: Principal) -> IdempotentWrites:
    return IdempotentWrites(db_session, principal.tenant_id, principal.account_id)


async def provide_proxies(db_session: AsyncSession, principal: Principal, org: OrgService) -> ProxyService:
    return ProxyService(db_session, principal, org)


async def provide_earning(
    db_session: AsyncSession, principal: Principal, org: OrgService, proxies: ProxyService, clock: TenantClock
) -> EarningContext:
    return EarningContext(db_session, principal, org, RuleService(db_session, principal.tenant_id), proxies, clock)


Service = TypeVar("Service", bound=EarningService)


def earning_service(service: type[Service]) -> Provide:
    """The provider of an earning service that needs nothing but the request's `earning` context."""

    async def provide(earning: EarningContext) -> Service:
        return service(earning)

    return Provide(provide)


def earning_dependencies() -> dict[str, Provide]:
    """The providers of a router whose handlers earn: one `earning` context (sharing the request's org
    service and proxies with the handlers that ask for them), the ledger that pays and idempotent writes."""
    return {
        "org": Provide(provide_org),
        "ledger": Provide(provide_ledger),
        "idempotent": Provide(provide_idempotent),
        "proxies": Provide(provide_proxies),
        "clock": Provide(provide_clock),
        "earning": Provide(provide_earning),
    }
