"""Awards, penalties, adjustments and their reversals: points issued to or taken from members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from points_service.errors import (
    AlreadyAwarded,
    AlreadyReversed,
    DomainError,
    InvalidInput,
    MemberInactive,
    NotFound,
    NotReversible,
)
from points_service.ledger.postings import LedgerWriter, Posted, Posting
from points_service.ledger.repository import member_accounts_of
from points_service.rules.models import Rule

MAX_QUANTITY = Decimal(1000)
MAX_BULK_MEMBERS = 1000
REVERSIBLE_KINDS = ("award", "penalty", "adjustment")


@dataclass(frozen=True)
class AwardItem:
    """One member's share of an award: how much work, and (for work the app recorded) which piece
    of work it pays for, so that it can never be paid twice."""

    member_id: uuid.UUID
    quantity: Decimal
    source: str | None = None


@dataclass(frozen=True)
class CallerAward:
    """One caller's award by rule, written together with other callers' awards (group commit)."""

    member_id: uuid.UUID
    rule: Rule
    quantity: Decimal
    note: str | None
    actor_account_id: uuid.UUID


def award_points(rule: Rule, quantity: Decimal) -> int:
    """round-half-up(rule points × quantity), docs/api.md, "Rules and points"."""
    if not (0 < quantity <= MAX_QUANTITY):
        raise InvalidInput("quantity", "must be greater than 0 and at most 1000")
    if rule.unit == "each" and quantity != quantity.to_integral_value():
        raise InvalidInput("quantity", "must be a whole number for a rule counted 'each'")
    points = int((Decimal(rule.points) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if points == 0:
        # A ledger entry never moves 0 points (CHECK amount <> 0): refuse rather than fail in the database.
        raise InvalidInput("quantity", "is too small: rule points × quantity rounds to 0 points")
    return points


class AwardPostings(LedgerWriter):
    """Points issued by rule or by hand, and taken back; `LedgerService` offers them to callers."""

    async def award(
        self, member_id: uuid.UUID, rule: Rule, quantity: Decimal, note: str | None, source: str | None = None
    ) -> Posted:
        return (await self.award_many([AwardItem(member_id, quantity, source)], rule, note))[0]

    async def bulk_award(
        self, member_ids: Sequence[uuid.UUID], rule: Rule, quantity: Decimal, note: str | None
    ) -> list[Posted]:
        return await self.award_many([AwardItem(member_id, quantity) for member_id in member_ids], rule, note)

    async def award_many(self, items: Sequence[AwardItem], rule: Rule, note: str | None) -> list[Posted]:
        """One transaction per member, all in the caller's database transaction: all or nothing."""
        member_ids = [item.member_id for item in items]
        if not 1 <= len(member_ids) <= MAX_BULK_MEMBERS:
            raise InvalidInput("member_ids", f"must name 1 to {MAX_BULK_MEMBERS} members")
        if len(set(member_ids)) != len(member_ids):
            raise InvalidInput("member_ids", "must be distinct")
        sources = [item.source for item in items if item.source is not None]
        if len(set(sources)) != len(sources):
            raise InvalidInput("source", "must be distinct")
        points = {item.member_id: award_points(rule, item.quantity) for item in items}
        issuance = await self._issuance_account()
        locked, accounts = await self._lock(member_ids)
        # Every earning path ends here (activities, claims, duty, bulk awards): one check for all of them.
        inactive = await self._repo.inactive_members(member_ids)
        if inactive:
            raise MemberInactive(f"Member {inactive[0]} is switched off")
        if sources and await self._repo.awarded_sources(sources):
            raise AlreadyAwarded()
        today = self._clock.today()
        kind = "penalty" if rule.category == "penalty" else "award"
        postings = [
            Posting(
                kind=kind,
                member_id=item.member_id,
                lines=[
                    (issuance, -points[item.member_id]),
                    (accounts[item.member_id].available_id, points[item.member_id]),
                ],
                local_date=today,
                earned_delta=points[item.member_id],
                rule=rule,
                rule_code=rule.code,
                quantity=item.quantity,
                memo=note,
                source=item.source,
                rule_usage={(rule.id, today): points[item.member_id]} if points[item.member_id] > 0 else {},
            )
            for item in items
        ]
        return await self._post(postings, locked, accounts)

    async def award_each(self, awards: Sequence[CallerAward]) -> list[Posted | DomainError]:
        """Awards of unrelated callers in the caller's one database transaction: each is checked on
        its own under the locks (its member, its rule's caps, the balance a penalty leaves) and
        refused alone; the others are written together. Answers in the order given."""
        answers: list[Posted | DomainError | None] = [None] * len(awards)
        points: dict[int, int] = {}
        for index, award in enumerate(awards):
            try:
                points[index] = award_points(award.rule, award.quantity)
            except DomainError as refusal:
                answers[index] = refusal
        issuance = await self._issuance_account()
        locked = await self._repo.lock_accounts(sorted({awards[index].member_id for index in points}))
        accounts = member_accounts_of(locked)
        today = self._clock.today()
        postings: list[Posting] = []
        posted_indexes: list[int] = []
        for index, amount in points.items():
            award = awards[index]
            if award.member_id not in accounts:
                answers[index] = NotFound(f"No such member: {award.member_id}")
                continue
            postings.append(
                Posting(
                    kind="penalty" if award.rule.category == "penalty" else "award",
                    member_id=award.member_id,
                    lines=[(issuance, -amount), (accounts[award.member_id].available_id, amount)],
                    local_date=today,
                    earned_delta=amount,
                    rule=award.rule,
                    rule_code=award.rule.code,
                    quantity=award.quantity,
                    memo=award.note,
                    rule_usage={(award.rule.id, today): amount} if amount > 0 else {},
                    actor_account_id=award.actor_account_id,
                )
            )
            posted_indexes.append(index)
        for index, answer in zip(
            posted_indexes, await self._post_each(postings, locked, accounts, refuse_alone=True), strict=True
        ):
            answers[index] = answer
        return [answer for answer in answers if answer is not None]

    async def adjust(self, member_id: uuid.UUID, amount: int, reason: str) -> Posted:
        if amount == 0:
            raise InvalidInput("amount", "must not be zero")
        if not reason.strip():
            raise InvalidInput("reason", "must not be empty")
        issuance = await self._issuance_account()
        locked, accounts = await self._lock([member_id])
        posting = Posting(
            kind="adjustment",
            member_id=member_id,
            lines=[(issuance, -amount), (accounts[member_id].available_id, amount)],
            local_date=self._clock.today(),
            earned_delta=amount,
            memo=reason.strip(),
        )
        return (await self._post([posting], locked, accounts))[0]

    async def reverse(self, transaction_id: uuid.UUID, reason: str) -> Posted:
        if not reason.strip():
            raise InvalidInput("reason", "must not be empty")
        original = await self._repo.transaction(transaction_id)
        if original is None or original.member_id is None:
            raise NotFound("No such transaction")
        if original.kind not in REVERSIBLE_KINDS:
            raise NotReversible(f"A {original.kind} transaction is not reversed by staff")
        # Looked up (once per process) so `_post` knows the issuance line it reverses is not a lost lock.
        await self._issuance_account()
        # Lock first, then look: a concurrent reversal of the same transaction has either committed
        # (and is seen here) or waits behind this lock. The unique index on reverses_id backs this up.
        locked, accounts = await self._lock([original.member_id])
        if await self._repo.reversal_of(transaction_id) is not None:
            raise AlreadyReversed()
        lines = [(account_id, -amount) for account_id, amount in await self._repo.entries_of(transaction_id)]
        usage = {}
        if original.rule_id is not None and original.kind == "award":
            usage = {(original.rule_id, original.local_date): -original.earned_delta}
        posting = Posting(
            kind="reversal",
            member_id=original.member_id,
            lines=lines,
            # Counted on the day it is made: past days stay as sealed; the original's cap is given back.
            local_date=self._clock.today(),
            earned_delta=-original.earned_delta,
            rule_code=original.rule_code,
            memo=reason.strip(),
            reverses_id=original.id,
            rule_usage=usage,
        )
        return (await self._post([posting], locked, accounts))[0]
