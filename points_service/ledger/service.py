"""The ledger service: the only code that changes points (docs/ledger.md).

Every change is one or more postings written by `_post`, which locks the cached accounts it
touches in sorted id order, checks balances and caps under those locks, and writes transactions,
chained entries, cached balances, earned totals and cap usage in the caller's database transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from points_service.database.reads import ReadPool
from points_service.database.session import after_commit
from points_service.errors import (
    AlreadyAwarded,
    AlreadyReversed,
    CapReached,
    DomainError,
    InsufficientPoints,
    InvalidInput,
    NotFound,
    NotReversible,
)
from points_service.ledger.hashing import chained_entry_hash, transaction_digest, unchained_entry_hash
from points_service.ledger.models import EARNING_KINDS, LOCKED_ACCOUNT_KINDS
from points_service.ledger.repository import (
    EarnedMonth,
    LedgerRepository,
    LockedAccount,
    MemberAccounts,
    member_accounts_of,
    read_balance,
)
from points_service.rules.models import Rule
from points_service.tenancy.periods import TenantClock, month_end, month_start, year_start

MAX_QUANTITY = Decimal(1000)
MAX_BULK_MEMBERS = 1000
REVERSIBLE_KINDS = ("award", "penalty", "adjustment")


@dataclass(frozen=True)
class EarnedChange:
    """A member whose earned points changed in `month`, with every month's total as committed."""

    member_id: uuid.UUID
    unit_path: str
    month: date
    earned_by_month: dict[date, int]


# Earned points that changed -> the live leaderboards; after commit only.
PublishEarned = Callable[[list[EarnedChange]], Awaitable[None]]

# A tenant's issuance account is opened with the tenant and never changes, so each process looks
# it up once per tenant instead of on every award.
_ISSUANCE_ACCOUNTS: dict[uuid.UUID, uuid.UUID] = {}


@dataclass
class Posting:
    kind: str
    member_id: uuid.UUID
    lines: list[tuple[uuid.UUID, int]]
    local_date: date
    earned_delta: int
    rule: Rule | None = None
    rule_code: str | None = None
    quantity: Decimal | None = None
    memo: str | None = None
    reverses_id: uuid.UUID | None = None
    source: str | None = None
    # Cap usage this posting adds (or, for a reversal, gives back): (rule id, day) -> points.
    rule_usage: dict[tuple[uuid.UUID, date], int] = field(default_factory=dict)
    # Who asked for it, when postings of several callers are written together; else the service's caller.
    actor_account_id: uuid.UUID | None = None


@dataclass(frozen=True)
class _MemberLocks:
    """Members' accounts locked by `lock_members` in one database transaction, as the postings since
    have left them. Only this service reads or changes them, and only in that transaction."""

    transaction: SessionTransaction
    locked: dict[uuid.UUID, LockedAccount]
    accounts: dict[uuid.UUID, MemberAccounts]


@dataclass(frozen=True)
class RedemptionHold:
    """Points a member's redemption would move from available to held."""

    member_id: uuid.UUID
    points: int
    memo: str


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


@dataclass(frozen=True)
class Posted:
    transaction_id: uuid.UUID
    member_id: uuid.UUID
    points: int
    balance: int
    reverses: uuid.UUID | None = None


@dataclass(frozen=True)
class Balance:
    available: int
    held: int
    earned_total: int
    earned_this_month: int
    earned_this_year: int


@dataclass(frozen=True)
class HistoryLine:
    transaction_id: uuid.UUID
    at: datetime
    amount: int
    kind: str
    rule_code: str | None
    memo: str | None


async def member_balance(pool: ReadPool, clock: TenantClock, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Balance:
    """A member's balance, read on the hot-read pool (points_service/database/reads.py says why)."""
    today = clock.today()
    found = await read_balance(pool, tenant_id, member_id, month_start(today), year_start(today))
    if found is None:
        raise NotFound(f"No such member: {member_id}")
    return Balance(*found)


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


class LedgerService:
    def __init__(
        self,
        repository: LedgerRepository,
        clock: TenantClock,
        actor_account_id: uuid.UUID | None,
        publish_earned: PublishEarned | None = None,
    ):
        self._repo = repository
        self._publish_earned = publish_earned
        self._clock = clock
        self.clock = clock
        self._actor = actor_account_id
        self._member_locks: _MemberLocks | None = None

    @classmethod
    def in_session(
        cls,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        clock: TenantClock,
        actor_account_id: uuid.UUID | None = None,
    ) -> LedgerService:
        """A tenant's ledger writing in `session`'s transaction, publishing nothing (for work that
        changes no earned points, or publishes on its own)."""
        return cls(LedgerRepository(session, tenant_id), clock, actor_account_id)

    # -- accounts ---------------------------------------------------------------------------------

    async def open_tenant_accounts(self) -> None:
        if await self._repo.system_account_id("issuance") is None:
            await self._repo.add_accounts([{"id": uuid.uuid4(), "kind": "issuance"}])

    async def open_member_accounts(self, member_id: uuid.UUID) -> None:
        await self._repo.add_accounts(
            [{"id": uuid.uuid4(), "kind": kind, "member_id": member_id} for kind in ("member_available", "member_held")]
        )

    async def open_merchant_account(self, merchant_id: uuid.UUID) -> None:
        await self._repo.add_accounts([{"id": uuid.uuid4(), "kind": "merchant", "merchant_id": merchant_id}])

    # -- changes of points ------------------------------------------------------------------------

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

    # -- redemptions: member available -> held -> merchant (or back) -----------------------------

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

    async def settle_redemption(self, member_id: uuid.UUID, merchant_id: uuid.UUID, points: int, memo: str) -> Posted:
        locked, accounts = await self._lock([member_id], merchant_id)
        merchant_account = next((a.id for a in locked.values() if a.merchant_id == merchant_id), None)
        if merchant_account is None:
            raise RuntimeError("merchant has no ledger account; it is opened with the merchant")
        lines = [(accounts[member_id].held_id, -points), (merchant_account, points)]
        return await self._post_member_transfer("redemption_fulfil", member_id, lines, memo, locked, accounts)

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

    # -- reading ----------------------------------------------------------------------------------

    async def history(
        self, member_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[HistoryLine]:
        # Callers have checked the member exists and is theirs to see; an unknown one has no lines.
        rows = await self._repo.history(member_id, limit, before)
        return [HistoryLine(row.id, row.created_at, int(row.amount), row.kind, row.rule_code, row.memo) for row in rows]

    # -- the one writer ---------------------------------------------------------------------------

    async def _lock(
        self, member_ids: Sequence[uuid.UUID], merchant_id: uuid.UUID | None = None
    ) -> tuple[dict[uuid.UUID, LockedAccount], dict[uuid.UUID, MemberAccounts]]:
        """Lock every cached account the change may touch before reading anything it decides on.
        Both of a member's accounts are locked even when one is untouched, so every answer can
        report the available balance as of this transaction."""
        locked = await self._repo.lock_accounts(member_ids, merchant_id)
        accounts = member_accounts_of(locked)
        missing = [member_id for member_id in member_ids if member_id not in accounts]
        if missing:
            raise NotFound(f"No such member: {missing[0]}")
        return locked, accounts

    async def _issuance_account(self) -> uuid.UUID:
        tenant_id = self._repo.tenant_id
        if tenant_id not in _ISSUANCE_ACCOUNTS:
            account_id = await self._repo.system_account_id("issuance")
            if account_id is None:
                raise RuntimeError("tenant has no issuance account; it is opened with the tenant")
            _ISSUANCE_ACCOUNTS[tenant_id] = account_id
        return _ISSUANCE_ACCOUNTS[tenant_id]

    async def _post(
        self,
        postings: list[Posting],
        locked: dict[uuid.UUID, LockedAccount],
        accounts: dict[uuid.UUID, MemberAccounts],
    ) -> list[Posted]:
        """All the postings or none: the first refusal raises, and the caller's transaction rolls back."""
        results = await self._post_each(postings, locked, accounts, refuse_alone=False)
        return [result for result in results if isinstance(result, Posted)]

    async def _post_each(
        self,
        postings: list[Posting],
        locked: dict[uuid.UUID, LockedAccount],
        accounts: dict[uuid.UUID, MemberAccounts],
        refuse_alone: bool,
    ) -> list[Posted | DomainError]:
        """Check and write the postings in order, each against the balances and cap usage the ones
        before it left. With `refuse_alone`, a posting that breaks a rule is answered with its refusal
        and the rest are written; otherwise the refusal raises."""
        issuance = _ISSUANCE_ACCOUNTS.get(self._repo.tenant_id)
        for posting in postings:
            for account_id, _ in posting.lines:
                # An account neither locked here nor the issuance account would be written without
                # its lock and its chain: a programming error, never a request's fault.
                if account_id not in locked and account_id != issuance:
                    raise RuntimeError(f"account {account_id} is not locked by this posting")
        used = await self._cap_usage(postings)

        now = datetime.now(UTC)
        transactions: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        earned: dict[tuple[uuid.UUID, date], int] = {}
        usage: dict[tuple[uuid.UUID, uuid.UUID, date], int] = {}
        touched: dict[uuid.UUID, LockedAccount] = {}
        results: list[Posted | DomainError] = []
        for posting in postings:
            try:
                # Checked before anything changes, so a refused posting leaves the locked
                # accounts' state as the next posting must see it.
                _check_caps(posting, used)
                _check_balances(posting, locked)
            except DomainError as refusal:
                if not refuse_alone:
                    raise
                results.append(refusal)
                continue
            _count_cap_usage(posting, used)
            transaction_id = uuid.uuid4()
            digest = transaction_digest(
                transaction_id,
                posting.kind,
                posting.member_id,
                posting.rule_code,
                posting.local_date,
                posting.earned_delta,
                posting.reverses_id,
                posting.lines,
            )
            transactions.append(
                {
                    "tenant_id": self._repo.tenant_id,
                    "id": transaction_id,
                    "kind": posting.kind,
                    "member_id": posting.member_id,
                    "rule_id": posting.rule.id if posting.rule else None,
                    "rule_code": posting.rule_code,
                    "quantity": posting.quantity,
                    "memo": posting.memo,
                    "actor_account_id": posting.actor_account_id or self._actor,
                    "reverses_id": posting.reverses_id,
                    "local_date": posting.local_date,
                    "earned_delta": posting.earned_delta,
                    "digest": digest,
                    "source": posting.source,
                    "created_at": now,
                }
            )
            for account_id, amount in posting.lines:
                entries.append(self._entry(locked.get(account_id), account_id, transaction_id, amount, digest))
                if account_id in locked:
                    touched[account_id] = locked[account_id]
            available = locked[accounts[posting.member_id].available_id]
            if posting.kind in EARNING_KINDS and posting.earned_delta:
                key = (posting.member_id, month_start(posting.local_date))
                earned[key] = earned.get(key, 0) + posting.earned_delta
            for (rule_id, day), points in posting.rule_usage.items():
                usage_key = (posting.member_id, rule_id, day)
                usage[usage_key] = usage.get(usage_key, 0) + points
            member_change = sum(amount for account_id, amount in posting.lines if account_id == available.id)
            results.append(
                Posted(transaction_id, posting.member_id, member_change, available.balance, posting.reverses_id)
            )
        if not transactions:
            return results

        earned_months = await self._repo.write_postings(transactions, entries, list(touched.values()), earned, usage)
        if earned and self._publish_earned is not None:
            self._queue_leaderboard_update(earned, earned_months)
        return results

    async def _cap_usage(self, postings: list[Posting]) -> dict[tuple[uuid.UUID, uuid.UUID], list[int]]:
        """(member, rule) -> [points today, points this month] already earned, for every capped rule
        the postings award by. Penalties and reversals never count against a cap."""
        members_by_rule: dict[uuid.UUID, tuple[Rule, set[uuid.UUID]]] = {}
        for posting in postings:
            rule = posting.rule
            if rule is not None and _capped(rule):
                members_by_rule.setdefault(rule.id, (rule, set()))[1].add(posting.member_id)
        used: dict[tuple[uuid.UUID, uuid.UUID], list[int]] = {}
        today = self._clock.today()
        for rule, member_ids in members_by_rule.values():
            found = await self._repo.rule_usage(
                rule.id, sorted(member_ids), today, month_start(today), month_end(today)
            )
            for member_id in member_ids:
                used[(member_id, rule.id)] = list(found.get(member_id, (0, 0)))
        return used

    def _queue_leaderboard_update(
        self, earned: dict[tuple[uuid.UUID, date], int], earned_months: list[EarnedMonth]
    ) -> None:
        by_member: dict[uuid.UUID, dict[date, int]] = {}
        paths: dict[uuid.UUID, str] = {}
        for row in earned_months:
            by_member.setdefault(row.member_id, {})[row.month] = row.earned
            paths[row.member_id] = row.unit_path
        changes = [
            EarnedChange(member_id, paths[member_id], month, by_member[member_id])
            for (member_id, month), delta in earned.items()
            if delta
        ]
        publish = self._publish_earned
        assert publish is not None
        after_commit(self._repo.session, lambda: publish(changes))

    def _entry(
        self,
        account: LockedAccount | None,
        account_id: uuid.UUID,
        transaction_id: uuid.UUID,
        amount: int,
        digest: str,
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "tenant_id": self._repo.tenant_id,
            "transaction_id": transaction_id,
            "account_id": account_id,
            "amount": amount,
        }
        if account is None or account.kind not in LOCKED_ACCOUNT_KINDS:
            return {
                **row,
                "seq": None,
                "prev_hash": None,
                "hash": unchained_entry_hash(account_id, transaction_id, amount, digest),
            }
        seq = account.entry_count + 1
        entry_hash = chained_entry_hash(account.last_hash, account_id, seq, transaction_id, amount, digest)
        row.update(seq=seq, prev_hash=account.last_hash, hash=entry_hash)
        account.balance += amount
        account.entry_count = seq
        account.last_hash = entry_hash
        return row


def _capped(rule: Rule) -> bool:
    return rule.points > 0 and (rule.daily_cap is not None or rule.monthly_cap is not None)


def _check_caps(posting: Posting, used: dict[tuple[uuid.UUID, uuid.UUID], list[int]]) -> None:
    rule = posting.rule
    if rule is None or not _capped(rule):
        return
    points = posting.rule_usage.get((rule.id, posting.local_date), 0)
    used_today, used_month = used[(posting.member_id, rule.id)]
    if rule.daily_cap is not None and used_today + points > rule.daily_cap:
        raise CapReached(
            f"Rule {rule.code} allows {rule.daily_cap} points a day; "
            f"{used_today} already earned today (member {posting.member_id})"
        )
    if rule.monthly_cap is not None and used_month + points > rule.monthly_cap:
        raise CapReached(
            f"Rule {rule.code} allows {rule.monthly_cap} points a month; "
            f"{used_month} already earned this month (member {posting.member_id})"
        )


def _count_cap_usage(posting: Posting, used: dict[tuple[uuid.UUID, uuid.UUID], list[int]]) -> None:
    rule = posting.rule
    if rule is None or (posting.member_id, rule.id) not in used:
        return
    points = posting.rule_usage.get((rule.id, posting.local_date), 0)
    used[(posting.member_id, rule.id)][0] += points
    used[(posting.member_id, rule.id)][1] += points


def _check_balances(posting: Posting, locked: dict[uuid.UUID, LockedAccount]) -> None:
    change: dict[uuid.UUID, int] = {}
    for account_id, amount in posting.lines:
        if account_id in locked:
            change[account_id] = change.get(account_id, 0) + amount
    if any(locked[account_id].balance + amount < 0 for account_id, amount in change.items()):
        raise InsufficientPoints(f"The balance would fall below zero (member {posting.member_id})")
