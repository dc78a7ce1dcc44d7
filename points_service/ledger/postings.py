"""The ledger's one writer (docs/ledger.md): every change of points is a `Posting` written here.

`_post` locks nothing itself: the use cases lock the cached accounts they touch first (`_lock`,
sorted ids, one statement), then `_post_each` checks balances and caps under those locks and writes
transactions, chained entries, cached balances, earned totals and cap usage in one statement of the
caller's database transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from points_service.database.session import after_commit
from points_service.errors import CapReached, DomainError, InsufficientPoints, NotFound
from points_service.inbox.notices import Notice
from points_service.ledger.hashing import chained_entry_hash, transaction_digest, unchained_entry_hash
from points_service.ledger.models import EARNING_KINDS, LOCKED_ACCOUNT_KINDS
from points_service.ledger.repository import (
    EarnedMonth,
    LedgerRepository,
    LockedAccount,
    MemberAccounts,
    member_accounts_of,
)
from points_service.observability.metrics import count_postings
from points_service.rules.models import Rule
from points_service.tenancy.periods import TenantClock, month_end, month_start


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
    # The member's message about this posting, written by the posting's own statement when the posting
    # is written (and not when it is refused): no round trip of its own while the accounts are locked.
    notice: Notice | None = None


@dataclass(frozen=True)
class Posted:
    transaction_id: uuid.UUID
    member_id: uuid.UUID
    points: int
    balance: int
    reverses: uuid.UUID | None = None


class LedgerWriter:
    """What every use case of the ledger shares: the tenant's repository, its clock, who acts, and
    the one writer. `LedgerService` is the door callers use; this is its foundation."""

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

    async def _lock(
        self, member_ids: Sequence[uuid.UUID]
    ) -> tuple[dict[uuid.UUID, LockedAccount], dict[uuid.UUID, MemberAccounts]]:
        """Lock every cached account the change may touch before reading anything it decides on.
        Both of a member's accounts are locked even when one is untouched, so every answer can
        report the available balance as of this transaction."""
        locked = await self._repo.lock_accounts(member_ids)
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
        notices: list[Notice] = []
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
            if posting.kind in CREDITS_NOTICED and member_change > 0:
                notices.append(_points_received(posting, member_change))
            if posting.notice is not None:
                notices.append(posting.notice)
            results.append(
                Posted(transaction_id, posting.member_id, member_change, available.balance, posting.reverses_id)
            )
        if not transactions:
            return results

        # The member's "points received" message is written by the same statement as the points.
        earned_months = await self._repo.write_postings(
            transactions, entries, list(touched.values()), earned, usage, notices
        )
        if earned and self._publish_earned is not None:
            self._queue_leaderboard_update(earned, earned_months)
        kinds = [transaction["kind"] for transaction in transactions]
        after_commit(self._repo.session, lambda: count_postings(kinds))
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


# Points a member is told about: awards and staff's adjustments in their favour (a reversal or a
# released hold gives back what was theirs and says so in the history instead).
CREDITS_NOTICED = ("award", "adjustment")


def _points_received(posting: Posting, points: int) -> Notice:
    what = posting.rule.name if posting.rule is not None else posting.memo
    return Notice(posting.member_id, "points_received", {"points": points, "what": what})


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
