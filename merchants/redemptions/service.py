"""Redemptions (docs/api.md, "Redemptions"): pending -> fulfilled | cancelled | expired, each step one
ledger transaction. This is the area's face to its controllers, one method per use case; the rules
live by responsibility: taking orders in batches (orders.py), the counter (counter.py), cancellation
and expiry (release.py, with the sweep in sweep.py), a reward's stock (stock.py), and their SQL (repository.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.redemptions.counter import CodeAtDesk, CodeGuessLimit, Counter
from merchants.redemptions.models import Redemption
from merchants.redemptions.orders import RedemptionOrders
from merchants.redemptions.release import RedemptionRelease
from merchants.redemptions.repository import RedemptionRepository
from merchants.redemptions.schemas import CounterView, FulfilledRedemption, NewRedemption, RedeemRequest
from merchants.redemptions.stock import RewardStock
from points_service.errors import DomainError, NotFound
from points_service.ledger.service import LedgerService
from points_service.tenancy.periods import TenantClock


class RedemptionService:
    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        ledger: LedgerService,
        session_factory: async_sessionmaker[AsyncSession],
        clock: TenantClock,
        guesses: CodeGuessLimit | None = None,
        stock_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        stock = RewardStock(session, tenant_id, stock_sessions or session_factory)
        self._orders = RedemptionOrders(session, tenant_id, ledger, clock, stock)
        self._release = RedemptionRelease(session, tenant_id, ledger, session_factory)
        self._counter = Counter(session, tenant_id, ledger, self._release, guesses)
        self._redemptions = RedemptionRepository(session, tenant_id)

    # -- member -----------------------------------------------------------------------------------

    async def redeem(self, member_id: uuid.UUID, reward_id: uuid.UUID, quantity: int) -> NewRedemption:
        return await self._orders.redeem(member_id, reward_id, quantity)

    async def redeem_each(self, requests: Sequence[RedeemRequest]) -> list[NewRedemption | DomainError]:
        return await self._orders.redeem_each(requests)

    async def mine(
        self, member_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[Redemption, str]]:
        return await self._redemptions.of_member(member_id, limit, before)

    async def member_redemption(self, member_id: uuid.UUID, redemption_id: uuid.UUID) -> Redemption:
        redemption = await self._redemptions.member_redemption(member_id, redemption_id)
        if redemption is None:
            raise NotFound(f"No such redemption: {redemption_id}")
        return redemption

    async def cancel(self, member_id: uuid.UUID, redemption_id: uuid.UUID) -> Redemption:
        return await self._release.cancel(member_id, redemption_id)

    # -- counter ----------------------------------------------------------------------------------

    async def verify(self, merchant_id: uuid.UUID, typed_code: str) -> CounterView:
        return await self._counter.verify(merchant_id, typed_code)

    async def fulfil(self, merchant_id: uuid.UUID, typed_code: str, clerk_account_id: uuid.UUID) -> FulfilledRedemption:
        return await self._counter.fulfil(merchant_id, typed_code, clerk_account_id)

    async def fulfil_each(
        self, merchant_id: uuid.UUID, requests: Sequence[CodeAtDesk]
    ) -> list[FulfilledRedemption | DomainError]:
        """Codes of concurrent requests at one merchant, each decided and answered alone (group
        commit, group_fulfil.py)."""
        return await self._counter.fulfil_each(merchant_id, requests)
