"""Cancellation and expiry: a pending redemption ends without a hand-over, its points go back
(`redemption_release`: held -> available) and its stock returns. Lock order, as at the counter: the
redemption row, then the member's accounts (by the ledger), then the reward row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.errors import NotPending
from merchants.redemptions.models import Redemption, status_now
from merchants.redemptions.repository import RedemptionRepository
from merchants.redemptions.stock import return_stock
from points_service.errors import NotFound
from points_service.ledger.service import LedgerService


def refuse_unless_pending(redemption: Redemption) -> None:
    # Past expires_at counts as expired even if the sweep could not take the row just now.
    status = status_now(redemption)
    if status != "pending":
        raise NotPending(f"This code is {status}")


class RedemptionRelease:
    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        ledger: LedgerService,
        session_factory: async_sessionmaker[AsyncSession],
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._ledger = ledger
        self._session_factory = session_factory
        self._redemptions = RedemptionRepository(session, tenant_id)

    async def cancel(self, member_id: uuid.UUID, redemption_id: uuid.UUID) -> Redemption:
        seen = await self._redemptions.member_redemption(member_id, redemption_id)
        if seen is None:
            raise NotFound(f"No such redemption: {redemption_id}")
        if seen.status == "pending" and status_now(seen) == "expired":
            await self.expire_if_due(redemption_id)
        redemption = await self._redemptions.locked(Redemption.id == redemption_id, Redemption.member_id == member_id)
        if redemption is None:
            raise NotFound(f"No such redemption: {redemption_id}")
        refuse_unless_pending(redemption)
        label = await self._redemptions.redeemed(redemption)
        await self._release(self._session, self._ledger, redemption, "cancelled", f"会员取消兑换: {label}")
        return redemption

    async def expire_due(self, batch: int = 200) -> int:
        """The sweep: expire pending redemptions past their time, each in a transaction of its own."""
        expired = 0
        for redemption_id in await self._redemptions.due(batch):
            expired += await self.expire_if_due(redemption_id)
        return expired

    async def expire_if_due(self, redemption_id: uuid.UUID) -> int:
        """Expire now, committed on its own, so a refusal that follows (409) does not undo it."""
        async with self._session_factory() as session, session.begin():
            redemption = await RedemptionRepository(session, self._tenant_id).locked_if_due(redemption_id)
            if redemption is None:
                return 0
            # An expiry is nobody's act, whoever's request found it due.
            ledger = LedgerService.in_session(session, self._tenant_id, self._ledger.clock)
            label = await RedemptionRepository(session, self._tenant_id).redeemed(redemption)
            await self._release(session, ledger, redemption, "expired", f"兑换码过期, 积分退回: {label}")
            return 1

    async def _release(
        self, session: AsyncSession, ledger: LedgerService, redemption: Redemption, status: str, memo: str
    ) -> None:
        if redemption.status != "pending":
            raise NotPending(f"This code is {redemption.status}")
        release = await ledger.release_redemption(redemption.member_id, redemption.points, memo)
        await return_stock(session, self._tenant_id, redemption.reward_id, redemption.quantity)
        redemption.status = status
        redemption.settle_transaction_id = release.transaction_id
        redemption.settled_at = datetime.now(UTC)
        await session.flush()
