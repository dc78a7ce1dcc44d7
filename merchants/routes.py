"""The marketplace's routers: the JSON API (mounted under /api/v1 by MerchantsPlugin) and the merchant
web page (mounted at /merchant/)."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import CacheControlHeader, ResponseHeader, State
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.applications import MerchantApplications
from merchants.accounts.service import MerchantService
from merchants.controllers import (
    ClerkController,
    MemberMarketController,
    MerchantAdminController,
    MerchantApplicationController,
)
from merchants.redemptions.counter import CodeGuessLimit
from merchants.redemptions.service import RedemptionService
from merchants.rewards.service import RewardService
from merchants.settlement.controllers import SettlementAdminController, StatementController
from merchants.settlement.service import SettlementService
from merchants.web import STATIC_DIRECTORY, TEMPLATE_DIRECTORY
from merchants.web.applications import ApplicationPageController
from merchants.web.controllers import PAGE_CONTROLLERS, PAGE_EXCEPTION_HANDLERS
from merchants.web.repository import CounterRecords
from merchants.web.session import provide_page_clerk
from points_service.auth.guards import allow_roles, require_member, require_staff
from points_service.auth.principal import Principal
from points_service.auth.rate_limit import FailureLimiter
from points_service.deps import provide_idempotent, provide_ledger, provide_org
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService


async def provide_merchant_accounts(
    db_session: AsyncSession, principal: Principal, org: OrgService, ledger: LedgerService
) -> MerchantService:
    return MerchantService(db_session, principal.tenant_id, org, ledger)


async def provide_applications(db_session: AsyncSession, state: State) -> MerchantApplications:
    return MerchantApplications(db_session, FailureLimiter(state.redis))


async def provide_rewards(db_session: AsyncSession, principal: Principal) -> RewardService:
    return RewardService(db_session, principal.tenant_id)


async def provide_settlement(
    db_session: AsyncSession, principal: Principal, ledger: LedgerService
) -> SettlementService:
    return SettlementService(db_session, principal.tenant_id, ledger.clock)


async def provide_redemptions(
    db_session: AsyncSession, principal: Principal, ledger: LedgerService, state: State
) -> RedemptionService:
    guesses = CodeGuessLimit(FailureLimiter(state.redis), principal.account_id) if principal.role == "clerk" else None
    return RedemptionService(
        db_session,
        principal.tenant_id,
        ledger,
        state.side_session_factory,
        ledger.clock,
        guesses,
        stock_sessions=state.stock_session_factory,
    )


SHARED = {
    "ledger": Provide(provide_ledger),
    "idempotent": Provide(provide_idempotent),
    "rewards": Provide(provide_rewards),
    "redemptions": Provide(provide_redemptions),
    "settlement": Provide(provide_settlement),
}


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
# Scripts and styles only from this origin, never inline; the page cannot be framed (clickjacking
# a "confirm" button).
PAGE_HEADERS = [
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
    ),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
]


def merchant_page_routers() -> list[Router]:
    """The clerk's web page: the same services as the clerk API, the principal read from the session
    cookie instead of the Authorization header (the app factory adds CSRF checks for these paths)."""
    return [
        Router(
            path="/merchant",
            route_handlers=[*PAGE_CONTROLLERS, ApplicationPageController],
            dependencies={
                **SHARED,
                "principal": Provide(provide_page_clerk),
                "records": Provide(provide_counter_records),
            },
            exception_handlers=PAGE_EXCEPTION_HANDLERS,  # type: ignore[dict-item]
            response_headers=PAGE_HEADERS,
            cache_control=CacheControlHeader(no_store=True),
            include_in_schema=False,
        ),
        create_static_files_router(
            path="/merchant/static",
            directories=[STATIC_DIRECTORY],
            name="merchant_static",
            cache_control=CacheControlHeader(max_age=3600),
            include_in_schema=False,
        ),
    ]
