"""The marketplace's routers: the JSON API (mounted under /api/v1 by MerchantsPlugin) and the merchant
web page (mounted at /merchant/)."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.applications import MerchantApplications, application_limiter
from merchants.accounts.service import MerchantService
from merchants.controllers import (
    ClerkController,
    MemberMarketController,
    MerchantAdminController,
    MerchantApplicationController,
)
from merchants.deps import SHARED, provide_settlement
from merchants.settlement.controllers import SettlementAdminController, StatementController
from merchants.web import TEMPLATE_DIRECTORY
from merchants.web.applications import ApplicationPageController
from merchants.web.controllers import PAGE_CONTROLLERS, provide_shop
from merchants.web.page import CLERK_PAGE
from merchants.web.repository import CounterRecords
from points_service.auth.guards import allow_roles, require_member, require_staff
from points_service.auth.principal import Principal
from points_service.deps import provide_ledger, provide_org
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService


async def provide_merchant_accounts(
    db_session: AsyncSession, principal: Principal, org: OrgService, ledger: LedgerService
) -> MerchantService:
    return MerchantService(db_session, principal.tenant_id, org, ledger)


async def provide_applications(db_session: AsyncSession, state: State) -> MerchantApplications:
    return MerchantApplications(db_session, application_limiter(state.limits_redis))


def marketplace_routers() -> list[Router]:
    return [
        Router(
            path="/admin",
            guards=[require_staff],
            route_handlers=[MerchantAdminController, SettlementAdminController],
            dependencies={
                "org": Provide(provide_org),
                "ledger": Provide(provide_ledger),
                "merchant_accounts": Provide(provide_merchant_accounts),
                "settlement": Provide(provide_settlement),
            },
        ),
        Router(
            path="/merchant",
            guards=[allow_roles("clerk")],
            route_handlers=[ClerkController, StatementController],
            dependencies=SHARED,
        ),
        Router(path="/", guards=[require_member], route_handlers=[MemberMarketController], dependencies=SHARED),
        # Anyone may apply: the shop has no login yet. Limited per client address.
        Router(
            path="/",
            route_handlers=[MerchantApplicationController],
            dependencies={"applications": Provide(provide_applications)},
        ),
    ]


async def provide_counter_records(db_session: AsyncSession, principal: Principal) -> CounterRecords:
    return CounterRecords(db_session, principal.tenant_id)


MERCHANT_TEMPLATES = TEMPLATE_DIRECTORY


def merchant_page_routers() -> list[Router]:
    """The clerk's web page: the same services as the clerk API, the principal read from the session
    cookie instead of the Authorization header (sign-in, headers and problem pages from CLERK_PAGE)."""
    return CLERK_PAGE.routers(
        [*PAGE_CONTROLLERS, ApplicationPageController],
        dependencies={
            **SHARED,
            "principal": Provide(CLERK_PAGE.user),
            "records": Provide(provide_counter_records),
            "shop": Provide(provide_shop),
        },
    )
