"""The counter: a clerk looks a code up and hands the reward over (`redemption_fulfil`: the member's
held points -> one of the merchant's accounts). Lock order, as everywhere in redemptions: the
redemption rows (sorted ids, one statement), then the members' accounts (by the ledger, in id order,
in one statement), then a stripe of the merchant's (docs/ledger.md); so a cancel racing a fulfil, or
two fulfils of one code, queue on the redemption row and exactly one wins.

Fulfilments at one merchant are written in batches (group commit, `group_fulfil.py`): every one of
them credits the merchant, so one by one they queued on its account's row lock; a batch locks one of
the merchant's stripes once for all of them, and concurrent batches take different stripes. Each
code is still decided as if alone and refused alone.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from merchants.errors import MerchantSuspended, NotPending
from merchants.redemptions.codes import normalise
from merchants.redemptions.models import status_now
from merchants.redemptions.release import RedemptionRelease
from merchants.redemptions.repository import CodeAtCounter, RedemptionRepository, redeemed_label
from merchants.redemptions.schemas import CounterView, FulfilledRedemption
from points_service.auth.rate_limit import FailureLimiter
from points_service.errors import DomainError, NotFound, TooManyAttempts
from points_service.inbox.notices import Notice
from points_service.ledger.service import LedgerService, RedemptionSettlement


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

    async def allow_hit(self) -> None:
        """A code found: refused as a lookup past the limit would have been, but no miss counted."""
        await self.limiter.check([(self.key, self.misses_allowed)])

    async def refusal(self, found: bool) -> TooManyAttempts | None:
        """Counts a lookup whose code was not found as a miss; refuses either kind past the limit.
        The same as taking a miss before the lookup and giving it back once the code is found,
        without holding a miss while a batch writes (a clerk's codes in one batch would reach the
        limit together)."""
        try:
            await (self.allow_hit() if found else self.take())
        except TooManyAttempts as refused:
            return refused
        return None


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
        self._tenant_id = tenant_id
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

    async def fulfil(self, merchant_id: uuid.UUID, typed_code: str, clerk_account_id: uuid.UUID) -> FulfilledRedemption:
        """One code handed over in the request's own transaction (the clerk's page); refusals raise."""
        (answer,) = await self.fulfil_each(merchant_id, [CodeAtDesk(typed_code, clerk_account_id, self._guesses)])
        if isinstance(answer, DomainError):
            raise answer
        return answer

    async def fulfil_each(
        self, merchant_id: uuid.UUID, requests: Sequence[CodeAtDesk]
    ) -> list[FulfilledRedemption | DomainError]:
        """Codes handed over at one merchant in this one transaction, each decided as if alone and
        refused alone; answers in the order given. Each code counts against its clerk's
        code-guessing limit, a miss unless it is found, and is refused past the limit, as a
        lookup alone would be."""
        answers: list[FulfilledRedemption | DomainError | None] = [None] * len(requests)
        codes = [normalise(request.typed_code) for request in requests]
        found = await self._redemptions.codes_at_counter(merchant_id, sorted({c for c in codes if c is not None}))
        refusals = await asyncio.gather(
            *(
                _guess(request.guesses, code is not None and code in found)
                for request, code in zip(requests, codes, strict=True)
            )
        )
        # A code sent twice in one batch (two clerks at once) is decided once, by its first request.
        deciding: dict[uuid.UUID, int] = {}
        chosen: dict[int, CodeAtCounter] = {}
        repeats: dict[int, int] = {}
        now = datetime.now(UTC)
        for index, code in enumerate(codes):
            redemption = None if code is None else found.get(code)
            if refusals[index] is not None:
                answers[index] = refusals[index]
            elif redemption is None:
                answers[index] = NotFound("No such code at this merchant")
            elif redemption.merchant_status != "active":
                answers[index] = MerchantSuspended("A suspended merchant cannot hand over rewards")
            elif redemption.id in deciding:
                repeats[index] = deciding[redemption.id]
            elif redemption.status != "pending":
                # Fulfilled, cancelled and expired are final: no lock can change them back.
                answers[index] = NotPending(f"This code is {redemption.status}")
            elif redemption.expires_at <= now:
                # Its points go back in a transaction of its own, so this refusal does not undo it.
                await self._release.expire_if_due(redemption.id)
                answers[index] = NotPending("This code is expired")
            else:
                deciding[redemption.id] = index
                chosen[index] = redemption
        locked = await self._redemptions.lock_many(list(deciding)) if deciding else {}
        now = datetime.now(UTC)
        passing: list[int] = []
        for index, redemption in chosen.items():
            status = status_now(locked[redemption.id], now)
            if status == "pending":
                passing.append(index)
            else:
                answers[index] = NotPending(f"This code is {status}")
        if passing:
            await self._settle(merchant_id, requests, chosen, passing, now, answers)
        for index, first in repeats.items():
            decided = answers[first]
            won = isinstance(decided, FulfilledRedemption)
            answers[index] = NotPending("This code is fulfilled") if won else decided
        return [answer for answer in answers if answer is not None]

    async def _settle(
        self,
        merchant_id: uuid.UUID,
        requests: Sequence[CodeAtDesk],
        chosen: dict[int, CodeAtCounter],
        passing: list[int],
        now: datetime,
        answers: list[FulfilledRedemption | DomainError | None],
    ) -> None:
        """The ledger's side and the redemptions' rows of the requests at `passing`, their rows locked
        and still pending; each answer at its position."""
        settlements = [
            RedemptionSettlement(
                chosen[index].member_id,
                chosen[index].points,
                f"兑换核销 {_label(chosen[index])}",
                requests[index].clerk_account_id,
                # Written by the ledger's statement that settles it: no round trip of its own while the
                # accounts are locked.
                _handed_over(chosen[index]),
            )
            for index in passing
        ]
        written: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = []
        for index, posted in zip(passing, await self._ledger.settle_redemptions(merchant_id, settlements), strict=True):
            if isinstance(posted, DomainError):
                answers[index] = posted
                continue
            redemption = chosen[index]
            written.append((redemption.id, posted.transaction_id, requests[index].clerk_account_id))
            answers[index] = FulfilledRedemption(redemption.id, "fulfilled", redemption.points)
        if written:
            await self._redemptions.mark_fulfilled(written, now)


@dataclass(frozen=True)
class CodeAtDesk:
    """A code a clerk typed or scanned to hand its reward over."""

    typed_code: str
    clerk_account_id: uuid.UUID
    guesses: CodeGuessLimit | None = None


async def _guess(guesses: CodeGuessLimit | None, found: bool) -> TooManyAttempts | None:
    return None if guesses is None else await guesses.refusal(found)


def _handed_over(redemption: CodeAtCounter) -> Notice:
    """The member's message that the reward was handed over."""
    params = {"what": _label(redemption), "points": redemption.points, "redemption_id": str(redemption.id)}
    return Notice(redemption.member_id, "redemption_fulfilled", params)


def _label(redemption: CodeAtCounter) -> str:
    return redeemed_label(redemption.reward_title, redemption.quantity, redemption.merchant_name)
