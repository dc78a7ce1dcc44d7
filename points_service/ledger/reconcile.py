"""`points-service reconcile`: prove the ledger's invariants (docs/ledger.md) from the stored rows. The
packages that build on the ledger add checks over their own tables through their plugins."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.ledger.hashing import (
    chained_entry_hash,
    daily_seal,
    transaction_digest,
    unchained_entry_hash,
)


@dataclass
class Check:
    name: str
    examined: int = 0
    breaches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches


def _scoped(sql: str) -> str:
    """`{tenant}` (or `x.{tenant}`) becomes "this tenant, or every tenant when none is named"."""
    return re.sub(
        r"(\w+\.)?\{tenant\}",
        lambda m: f"(CAST(:tenant AS uuid) IS NULL OR {m.group(1) or ''}tenant_id = CAST(:tenant AS uuid))",
        sql,
    )


class InvariantCheck(Protocol):
    """One invariant proved from the stored rows, over one tenant or every tenant (`tenant_id` None).
    The core brings the ledger's; each package's plugin brings those over its own tables."""

    async def run(self, session: AsyncSession, tenant_id: uuid.UUID | None) -> Check: ...


@dataclass(frozen=True)
class SqlCheck:
    """An invariant written as two queries: how many rows it examines, and which of them breach it.
    `{tenant}` in either query scopes it to the tenant checked (see `_scoped`)."""

    name: str
    count_sql: str
    breach_sql: str

    async def run(self, session: AsyncSession, tenant_id: uuid.UUID | None) -> Check:
        params = {"tenant": tenant_id}
        check = Check(self.name)
        check.examined = int(await session.scalar(text(_scoped(self.count_sql)), params) or 0)
        breaches = await session.execute(text(_scoped(self.breach_sql) + " LIMIT 20"), params)
        check.breaches = [str(tuple(row)) for row in breaches]
        return check


LEDGER_CHECKS: tuple[SqlCheck, ...] = (
    SqlCheck(
        "cached balance equals the sum of the account's entries",
        "SELECT count(*) FROM ledger_accounts WHERE kind <> 'issuance' AND {tenant}",
        """SELECT a.tenant_id, a.id, a.balance, coalesce(sum(e.amount), 0), a.entry_count, count(e.id)
             FROM ledger_accounts a
             LEFT JOIN ledger_entries e ON e.tenant_id = a.tenant_id AND e.account_id = a.id
            WHERE a.kind <> 'issuance' AND a.{tenant}
            GROUP BY a.tenant_id, a.id
           HAVING a.balance <> coalesce(sum(e.amount), 0) OR a.entry_count <> count(e.id)""",
    ),
    SqlCheck(
        "every transaction has two or more entries summing to zero",
        "SELECT count(*) FROM ledger_transactions WHERE {tenant}",
        """SELECT t.tenant_id, t.id, count(e.id), coalesce(sum(e.amount), 0)
             FROM ledger_transactions t
             LEFT JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id
            WHERE t.{tenant}
            GROUP BY t.tenant_id, t.id
           HAVING count(e.id) < 2 OR coalesce(sum(e.amount), 0) <> 0""",
    ),
    SqlCheck(
        "all entries of each tenant sum to zero",
        "SELECT count(DISTINCT tenant_id) FROM ledger_entries WHERE {tenant}",
        "SELECT tenant_id, sum(amount) FROM ledger_entries WHERE {tenant} GROUP BY tenant_id HAVING sum(amount) <> 0",
    ),
    SqlCheck(
        "no member balance is negative",
        "SELECT count(*) FROM ledger_accounts WHERE kind LIKE 'member_%' AND {tenant}",
        "SELECT tenant_id, id, balance FROM ledger_accounts WHERE kind LIKE 'member_%' AND balance < 0 AND {tenant}",
    ),
    SqlCheck(
        "earned totals per member and month equal the ledger's earning transactions",
        "SELECT count(*) FROM member_earned_monthly WHERE {tenant}",
        """WITH ledger AS (
               SELECT tenant_id, member_id, date_trunc('month', local_date)::date AS month, sum(earned_delta) AS earned
                 FROM ledger_transactions WHERE earned_delta <> 0 AND {tenant} GROUP BY 1, 2, 3)
           SELECT coalesce(l.tenant_id, m.tenant_id), coalesce(l.member_id, m.member_id),
                  coalesce(l.month, m.month), l.earned, m.earned
             FROM ledger l FULL JOIN member_earned_monthly m
               ON m.tenant_id = l.tenant_id AND m.member_id = l.member_id AND m.month = l.month
            WHERE coalesce(l.earned, 0) <> coalesce(m.earned, 0)
              AND (m.tenant_id IS NULL OR m.{tenant})""",
    ),
)


async def reconcile(
    session: AsyncSession,
    seal_until: date | None = None,
    tenant_id: uuid.UUID | None = None,
    contributed: Sequence[InvariantCheck] = (),
) -> list[Check]:
    """The ledger's checks and the `contributed` ones (each package's, gathered by the composition root's
    `reconcile_all`), over every tenant or over one (`tenant_id`)."""
    params: dict[str, object] = {"tenant": tenant_id}
    checks = [await check.run(session, tenant_id) for check in (*LEDGER_CHECKS, *contributed)]
    checks.append(await _hash_chains(session, params))
    checks.append(await _seals(session, seal_until, params))
    return checks


async def _hash_chains(session: AsyncSession, params: dict[str, object]) -> Check:
    """Recompute every transaction digest and every account's chain from the first entry."""
    check = Check("transaction digests and per-account hash chains recompute")
    transactions = await session.stream(
        text(
            _scoped(
                """SELECT t.tenant_id, t.id, t.kind, t.member_id, t.rule_code, t.local_date, t.earned_delta,
                  t.reverses_id, t.digest,
                  array_agg(e.account_id ORDER BY e.id) AS accounts, array_agg(e.amount ORDER BY e.id) AS amounts,
                  array_agg(e.hash ORDER BY e.id) AS hashes, array_agg(e.seq ORDER BY e.id) AS seqs
             FROM ledger_transactions t
             JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id
            WHERE t.{tenant}
            GROUP BY t.tenant_id, t.id"""
            )
        ),
        params,
    )
    async for row in transactions:
        check.examined += 1
        lines = list(zip(row.accounts, row.amounts, strict=True))
        digest = transaction_digest(
            row.id, row.kind, row.member_id, row.rule_code, row.local_date, row.earned_delta, row.reverses_id, lines
        )
        if digest != row.digest:
            check.breaches.append(f"transaction {row.id}: digest does not match its row and entries")
        for (account_id, amount), entry_hash, seq in zip(lines, row.hashes, row.seqs, strict=True):
            if seq is None and entry_hash != unchained_entry_hash(account_id, row.id, amount, row.digest):
                check.breaches.append(f"transaction {row.id}: entry on {account_id} altered")

    previous: dict[uuid.UUID, tuple[int, str]] = defaultdict(lambda: (0, ""))
    entries = await session.stream(
        text(
            _scoped(
                """SELECT e.account_id, e.seq, e.prev_hash, e.hash, e.transaction_id, e.amount, t.digest
             FROM ledger_entries e
             JOIN ledger_transactions t ON t.tenant_id = e.tenant_id AND t.id = e.transaction_id
            WHERE e.seq IS NOT NULL AND e.{tenant}
            ORDER BY e.tenant_id, e.account_id, e.seq"""
            )
        ),
        params,
    )
    async for entry in entries:
        last_seq, last_hash = previous[entry.account_id]
        expected = chained_entry_hash(
            last_hash, entry.account_id, entry.seq, entry.transaction_id, entry.amount, entry.digest
        )
        if entry.seq != last_seq + 1 or entry.prev_hash != last_hash or entry.hash != expected:
            check.breaches.append(f"account {entry.account_id}: chain broken at entry {entry.seq}")
        previous[entry.account_id] = (entry.seq, entry.hash)
    for account_id, last_hash, entry_count in await session.execute(
        text(_scoped("SELECT id, last_hash, entry_count FROM ledger_accounts WHERE kind <> 'issuance' AND {tenant}")),
        params,
    ):
        if previous.get(account_id, (0, ""))[1] != last_hash or previous.get(account_id, (0, ""))[0] != entry_count:
            check.breaches.append(f"account {account_id}: head of chain does not match its last entry")
    check.breaches = check.breaches[:20]
    return check


async def _seals(session: AsyncSession, seal_until: date | None, params: dict[str, object]) -> Check:
    """Verify stored daily seals, and seal finished days not sealed yet (when `seal_until` is given)."""
    check = Check("daily seals match the day's transactions")
    days = await session.execute(
        text(
            _scoped(
                """SELECT t.tenant_id, t.local_date, array_agg(t.digest ORDER BY t.created_at, t.id) AS digests,
                  s.seal, s.transaction_count
             FROM ledger_transactions t
             LEFT JOIN ledger_daily_seals s ON s.tenant_id = t.tenant_id AND s.day = t.local_date
            WHERE t.{tenant}
            GROUP BY t.tenant_id, t.local_date, s.seal, s.transaction_count"""
            )
        ),
        params,
    )
    for row in days:
        seal = daily_seal(row.local_date, row.digests)
        if row.seal is not None:
            check.examined += 1
            if row.seal != seal or row.transaction_count != len(row.digests):
                check.breaches.append(f"tenant {row.tenant_id} day {row.local_date}: seal does not match")
        elif seal_until is not None and row.local_date < seal_until:
            await session.execute(
                text(
                    "INSERT INTO ledger_daily_seals (tenant_id, day, transaction_count, seal) "
                    "VALUES (:tenant, :day, :count, :seal) ON CONFLICT DO NOTHING"
                ),
                {"tenant": row.tenant_id, "day": row.local_date, "count": len(row.digests), "seal": seal},
            )
    return check
