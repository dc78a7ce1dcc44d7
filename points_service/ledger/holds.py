"""Redemptions: a member's points go from available to held, then to the merchant or back.

The members' locks taken by `lock_members` stay private to this module: callers ask whether holds
fit and to hold them, and never carry the lock objects themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import SessionTransaction

from points_service.errors import DomainError, InsufficientPoints, NotFound
from points_service.inbox.notices import Notice
from points_service.ledger.postings import LedgerWriter, Posted, Posting
from points_service.ledger.repository import LockedAccount, MemberAccounts, member_accounts_of


@dataclass(frozen=True)
class _MemberLocks:
    """Members' accounts locked by `lock_members` in one database transaction, as the postings since
    have left them. Only this service reads or changes them, and only in that transaction."""

    transaction: SessionTransaction
    locked: dict[uuid.UUID, LockedAccount]
    accounts: dict[uuid.UUID, MemberAccounts]


@dataclass(frozen=True)
class RedemptionSettlement:
    """Held points of a member's redemption that go to the merchant at the counter."""

    member_id: uuid.UUID
    points: int
    memo: str
    # The clerk who handed the reward over, when fulfilments of several clerks are written together.
    actor_account_id: uuid.UUID | None = None
    # The member's message that the reward was handed over: written with the fulfilment, if it is.
    notice: Notice | None = None


@dataclass(frozen=True)
class RedemptionHold:
    """Points a member's redemption would move from available to held."""

    member_id: uuid.UUID
    points: int
    memo: str


class RedemptionPostings(LedgerWriter):
    """The ledger's side of a redemption; `LedgerService` offers it to callers."""

    # None until `lock_members` sets this instance's own: declared here, not by the writer, so
    # that no code outside this module sees the locks.
    _member_locks: _MemberLocks | None = None

    async def lock_members(self, member_ids: Sequence[uuid.UUID]) -> frozenset[uuid.UUID]:
        """Lock these members' accounts until this database transaction ends, in the ledger's order
        (sorted ids, one statement), for a use case that reads other rows under them (a redemption's
        per-member limit) before it holds points; `refuse_unaffordable` and `hold_for_redemptions`
        then work under these locks. The members that exist."""
        locked = await self._repo.lock_accounts(sorted(set(member_ids)))
        transaction = self._repo.session.sync_session.get_transaction()
        assert transaction is not None, "the lock statement runs in the session's transaction"
        self._member_locks = _MemberLocks(transaction, locked, member_accounts_of(locked))
        return frozenset(self._member_locks.accounts)

    def refuse_unaffordable(self, holds: Sequence[RedemptionHold]) -> list[InsufficientPoints | None]:
        """Whether each hold, in the order given, fits the member's available points under the locks
        of `lock_members`, after the holds before it that fit: None, or its refusal. Changes nothing."""
        locks = self._locks_of_this_transaction(hold.member_id for hold in holds)
        available: dict[uuid.UUID, int] = {}
        answers: list[InsufficientPoints | None] = []
        for hold in holds:
            left = available.get(hold.member_id)
            if left is None:
                left = locks.locked[locks.accounts[hold.member_id].available_id].balance
            if hold.points > left:
                answers.append(InsufficientPoints(f"The balance would fall below zero (member {hold.member_id})"))
                continue
            available[hold.member_id] = left - hold.points
            answers.append(None)
        return answers

    async def hold_for_redemptions(self, holds: Sequence[RedemptionHold]) -> list[Posted]:
        """Hold the points of several members' redemptions (available -> held), under the locks of
        `lock_members`. All or nothing: a hold the balance does not allow raises `InsufficientPoints`
        (`refuse_unaffordable` tells beforehand)."""
        locks = self._locks_of_this_transaction(hold.member_id for hold in holds)
        today = self._clock.today()
        postings = [
            Posting(
                kind="redemption_hold",
                member_id=hold.member_id,
                lines=[
                    (locks.accounts[hold.member_id].available_id, -hold.points),
                    (locks.accounts[hold.member_id].held_id, hold.points),
                ],
                local_date=today,
                earned_delta=0,
                memo=hold.memo,
            )
            for hold in holds
        ]
        return await self._post(postings, locks.locked, locks.accounts)

    def _locks_of_this_transaction(self, member_ids: Iterable[uuid.UUID]) -> _MemberLocks:
        """The locks `lock_members` took, if still held: in this transaction and covering these members.
        Anything else would decide on balances nobody holds still, a programming error."""
        locks = self._member_locks
        if locks is None or locks.transaction is not self._repo.session.sync_session.get_transaction():
            raise RuntimeError("the members' accounts are not locked in this transaction (lock_members)")
        if any(member_id not in locks.accounts for member_id in member_ids):
            raise RuntimeError("a member's accounts are not among those lock_members locked")
        return locks

    async def release_redemption(self, member_id: uuid.UUID, points: int, memo: str) -> Posted:
        locked, accounts = await self._lock([member_id])
        lines = [(accounts[member_id].held_id, -points), (accounts[member_id].available_id, points)]
        return await self._post_member_transfer("redemption_release", member_id, lines, memo, locked, accounts)

    async def settle_redemptions(
        self, merchant_id: uuid.UUID, settlements: Sequence[RedemptionSettlement]
    ) -> list[Posted | DomainError]:
        """Fulfilments at one merchant (each member's held points -> one of the merchant's accounts),
        written together: every member's accounts are locked (sorted ids, one statement), then one
        stripe of the merchant's, which all of them credit: a stripe no other batch holds, so batches
        at one shop do not queue on one row (`lock_merchant_stripe`). Each is checked against what
        the ones before it left and refused alone. Answers in the order given."""
        locked = await self._repo.lock_accounts(sorted({s.member_id for s in settlements}))
        accounts = member_accounts_of(locked)
        stripe = await self._repo.lock_merchant_stripe(merchant_id)
        if stripe is None:
            raise RuntimeError("merchant has no ledger account; it is opened with the merchant")
        locked[stripe.id] = stripe
        merchant_account = stripe.id
        today = self._clock.today()
        answers: list[Posted | DomainError | None] = [None] * len(settlements)
        postings: list[Posting] = []
        positions: list[int] = []
        for index, settlement in enumerate(settlements):
            if settlement.member_id not in accounts:
                answers[index] = NotFound(f"No such member: {settlement.member_id}")
                continue
            # Spending is not earning (docs/ledger.md, "earned is not balance"): no earned points change.
            postings.append(
                Posting(
                    kind="redemption_fulfil",
                    member_id=settlement.member_id,
                    lines=[
                        (accounts[settlement.member_id].held_id, -settlement.points),
                        (merchant_account, settlement.points),
                    ],
                    local_date=today,
                    earned_delta=0,
                    memo=settlement.memo,
                    actor_account_id=settlement.actor_account_id,
                    notice=settlement.notice,
                )
            )
            positions.append(index)
        for index, answer in zip(
            positions, await self._post_each(postings, locked, accounts, refuse_alone=True), strict=True
        ):
            answers[index] = answer
        return [answer for answer in answers if answer is not None]

    async def _post_member_transfer(
        self,
        kind: str,
        member_id: uuid.UUID,
        lines: list[tuple[uuid.UUID, int]],
        memo: str,
        locked: dict[uuid.UUID, LockedAccount],
        accounts: dict[uuid.UUID, MemberAccounts],
    ) -> Posted:
        # Spending is not earning (docs/ledger.md, "earned is not balance"): these never change earned points.
        posting = Posting(
            kind=kind, member_id=member_id, lines=lines, local_date=self._clock.today(), earned_delta=0, memo=memo
        )
        return (await self._post([posting], locked, accounts))[0]
