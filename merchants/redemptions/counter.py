"""The counter: a clerk looks a code up and hands the reward over (`redemption_fulfil`: the member's
held points -> the merchant's account). Lock order, as everywhere in redemptions: the redemption row,
then the member's and the merchant's accounts (by the ledger, in id order, in one statement); so a
cancel racing a fulfil, or two fulfils of one code, queue on the redemption row and exactly one wins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from merchants.errors import MerchantSuspended
from merchants.redemptions.codes import normalise
from merchants.redemptions.models import Redemption, status_now
from merchants.redemptions.release import RedemptionRelease, refuse_unless_pending
from merchants.redemptions.repository import RedemptionRepository
from merchants.redemptions.schemas import CounterView
from points_service.auth.rate_limit import FailureLimiter
from points_service.errors import NotFound
from points_service.inbox.notices import Notice, notify
from points_service.ledger.service import LedgerService


@dataclass(frozen=True)
class CodeGuessLimit:
    """Unknown codes one clerk may try per window: 32^8 codes cannot be walked at 20 per 15 minutes."""

    limiter: FailureLimiter
    clerk_account_id: uuid.UUID
    misses_allowed: int = 20

    @property
    def key(self) -> str:
        return f"code-miss:clerk:{self.clerk_account_id}"

    async def take(self) -> None:
        """Counts this lookup as a miss until its code is found (`record_hit`); refuses it past the limit."""
        await self.limiter.take([(self.key, self.misses_allowed)])

    async def record_hit(self) -> None:
        await self.limiter.give_back([self.key])


class Counter:
    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        ledger: LedgerService,
        release: RedemptionRelease,
        guesses: CodeGuessLimit | None = None,
    ) -> None:
        self._session = session
        self._ledger = ledger
        self._release = release
        self._guesses = guesses
        self._redemptions = RedemptionRepository(session, tenant_id)

    async def verify(self, merchant_id: uuid.UUID, typed_code: str) -> CounterView:
        if self._guesses is not None:
            await self._guesses.take()
        code = normalise(typed_code)
        found = None if code is None else await self._redemptions.at_counter(merchant_id, code)
        if found is None:
            raise NotFound("No such code at this merchant")
        if self._guesses is not None:
            await self._guesses.record_hit()
        redemption, title, name, merchant_status = found
        return CounterView(redemption, title, name, status_now(redemption), merchant_status)

    async def fulfil(self, merchant_id: uuid.UUID, typed_code: str, clerk_account_id: uuid.UUID) -> Redemption:
        view = await self.verify(merchant_id, typed_code)
        if view.merchant_status != "active":
            raise MerchantSuspended("A suspended merchant cannot hand over rewards")
        if view.redemption.status == "pending" and view.status == "expired":
            await self._release.expire_if_due(view.redemption.id)
        redemption = await self._redemptions.locked(Redemption.id == view.redemption.id)
        assert redemption is not None
        refuse_unless_pending(redemption)
        label = await self._redemptions.redeemed(redemption)
        settle = await self._ledger.settle_redemption(
            redemption.member_id, merchant_id, redemption.points, f"兑换核销 {label}"
        )
        redemption.status = "fulfilled"
        redemption.settle_transaction_id = settle.transaction_id
        redemption.settled_at = datetime.now(UTC)
        redemption.settled_by = clerk_account_id
        await self._session.flush()
        # The member's message that the reward was handed over, in the fulfilment's transaction.
        params = {"what": label, "points": redemption.points, "redemption_id": str(redemption.id)}
        await notify(
            self._session, redemption.tenant_id, [Notice(redemption.member_id, "redemption_fulfilled", params)]
        )
        return redemption
