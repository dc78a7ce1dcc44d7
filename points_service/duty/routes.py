"""The earning API of posts and shifts, micro-wishes, problem reports and in-service registration,
mounted under /api/v1 by the member side's plugin."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.routes import provide_proxies
from points_service.auth.principal import Principal
from points_service.deps import provide_clock, provide_idempotent, provide_ledger, provide_org
from points_service.duty.controllers import (
    DutyAttendanceController,
    MyDutyController,
    PostClaimController,
    PostController,
    ShiftController,
)
from points_service.duty.service import DutyService
from points_service.org.service import OrgService
from points_service.proxies.service import ProxyService
from points_service.registration.controllers import MyRegistrationController, RegistrationController
from points_service.registration.service import RegistrationService
from points_service.reports.controllers import ReportController
from points_service.reports.service import ReportService
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock
from points_service.wishes.controllers import WishController
from points_service.wishes.service import WishService


async def provide_duty(
    db_session: AsyncSession, principal: Principal, org: OrgService, proxies: ProxyService, clock: TenantClock
) -> DutyService:
    return DutyService(db_session, principal, org, RuleService(db_session, principal.tenant_id), proxies, clock)


async def provide_wishes(
    db_session: AsyncSession, principal: Principal, org: OrgService, proxies: ProxyService
) -> WishService:
    return WishService(db_session, principal, org, RuleService(db_session, principal.tenant_id), proxies)


async def provide_reports(
    db_session: AsyncSession, principal: Principal, org: OrgService, proxies: ProxyService, clock: TenantClock
) -> ReportService:
    return ReportService(db_session, principal, org, RuleService(db_session, principal.tenant_id), proxies, clock)


async def provide_registrations(
    db_session: AsyncSession, principal: Principal, org: OrgService, clock: TenantClock
) -> RegistrationService:
    return RegistrationService(db_session, principal, org, clock)


def duty_routers() -> list[Router]:
    return [
        Router(
            path="/",
            dependencies={
                "org": Provide(provide_org),
                "ledger": Provide(provide_ledger),
                "idempotent": Provide(provide_idempotent),
                "proxies": Provide(provide_proxies),
                "clock": Provide(provide_clock),
                "duty": Provide(provide_duty),
                "wishes": Provide(provide_wishes),
                "reports": Provide(provide_reports),
                "registrations": Provide(provide_registrations),
            },
            route_handlers=[
                PostController,
                PostClaimController,
                ShiftController,
                MyDutyController,
                DutyAttendanceController,
                WishController,
                ReportController,
                RegistrationController,
                MyRegistrationController,
            ],
        )
    ]
