"""The marketplace's services as request dependencies, shared by its JSON API, the clerk's page and the
member page's rewards tab."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.redemptions.counter import CodeGuessLimit
from merchants.redemptions.service import RedemptionService
from merchants.rewards.service import RewardService
from merchants.settlement.service import SettlementService
from points_service.auth.principal import Principal
from points_service.auth.rate_limit import FailureLimiter
from points_service.deps import provide_idempotent, provide_ledger
from points_service.ledger.service import LedgerService


async def provide_rewards(db_session: AsyncSession, principal: Principal) -> RewardService:
    return RewardService(db_session, principal.tenant_id)


async def provide_settlement(
    db_session: AsyncSession, principal: Principal, ledger: LedgerService
) -> SettlementService:
    return SettlementService(db_session, principal.tenant_id, ledger.clock)


def code_guess_limit(state: State, principal: Principal) -> CodeGuessLimit | None:
    """Clerks type codes by hand, so their unknown codes are counted; a member never types one."""
    return (
        CodeGuessLimit(FailureLimiter(state.limits_redis), principal.account_id) if principal.role == "clerk" else None
    )


async def provide_redemptions(
    db_session: AsyncSession, principal: Principal, ledger: LedgerService, state: State
) -> RedemptionService:
    return RedemptionService(
        db_session,
        principal.tenant_id,
        ledger,
        state.side_session_factory,
        ledger.clock,
        code_guess_limit(state, principal),
        stock_sessions=state.stock_session_factory,
    )


SHARED = {
    "ledger": Provide(provide_ledger),
    "idempotent": Provide(provide_idempotent),
    "rewards": Provide(provide_rewards),
    "redemptions": Provide(provide_redemptions),
    "settlement": Provide(provide_settlement),
}
