"""The earning API of activities, claims and proxies, mounted under /api/v1 by the member side's plugin."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.controllers import (
    ActivityController,
    ClaimController,
    MyEarningController,
    ProxyController,
)
from points_service.activities.repository import ActivityRepository
from points_service.activities.service import ActivityService
from points_service.auth.principal import Principal
from points_service.claims.service import ClaimService
from points_service.deps import provide_idempotent, provide_ledger, provide_org
from points_service.org.service import OrgService
from points_service.proxies.service import ProxyService
from points_service.rules.service import RuleService


async def provide_proxies(db_session: AsyncSession, principal: Principal, org: OrgService) -> ProxyService:
    return ProxyService(db_session, principal, org)


async def provide_activities(
    db_session: AsyncSession, principal: Principal, org: OrgService, proxies: ProxyService, state: State
) -> ActivityService:
    return ActivityService(
        ActivityRepository(db_session, principal.tenant_id),
        principal,
        org,
        RuleService(db_session, principal.tenant_id),
        proxies,
        state.settings.jwt_secret,
    )


async def provide_claims(
    db_session: AsyncSession, principal: Principal, org: OrgService, proxies: ProxyService
) -> ClaimService:
    return ClaimService(db_session, principal, org, RuleService(db_session, principal.tenant_id), proxies)


def activity_routers() -> list[Router]:
    return [
        Router(
            path="/",
            dependencies={
                "org": Provide(provide_org),
                "ledger": Provide(provide_ledger),
                "idempotent": Provide(provide_idempotent),
                "proxies": Provide(provide_proxies),
                "activities": Provide(provide_activities),
                "claims": Provide(provide_claims),
            },
            route_handlers=[
                ActivityController,
                MyEarningController,
                ClaimController,
                ProxyController,
            ],
        )
    ]
