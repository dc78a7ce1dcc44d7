"""Daily seals read back and checked: the seal of a day (and the one before it) as the public board
prints it, and `points-service seals verify`, which recomputes a sealed day from the ledger's rows.

Verifying does not trust the digests stored beside the transactions: it recomputes each transaction's
digest from its row and entries, then the day's seal from those, so a row changed after the day was
sealed (by anyone able to lift the append-only guard) no longer matches the seal that was published.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.ledger.hashing import daily_seal, transaction_digest


@dataclass(frozen=True)
class StoredSeal:
    day: date
    digest: str
    transactions: int


@dataclass(frozen=True)
class SealVerdict:
    tenant_id: uuid.UUID
    day: date
    stored: StoredSeal
    recomputed: str
    transactions: int

    @property
    def ok(self) -> bool:
        return self.recomputed == self.stored.digest and self.transactions == self.stored.transactions


async def latest_seal(session: AsyncSession, tenant_id: uuid.UUID) -> StoredSeal | None:
    row = (
        await session.execute(
            text("""SELECT day, seal, transaction_count FROM ledger_daily_seals
                     WHERE tenant_id = :tenant ORDER BY day DESC LIMIT 1"""),
            {"tenant": tenant_id},
        )
    ).first()
    return StoredSeal(row.day, row.seal, int(row.transaction_count)) if row else None


async def seal_on(session: AsyncSession, tenant_id: uuid.UUID, day: date) -> tuple[StoredSeal, str | None] | None:
    """The tenant's seal of `day` and the digest of the sealed day before it, or None before it is sealed."""
    rows = (
        await session.execute(
            text("""SELECT day, seal, transaction_count FROM ledger_daily_seals
                     WHERE tenant_id = :tenant AND day <= :day ORDER BY day DESC LIMIT 2"""),
            {"tenant": tenant_id, "day": day},
        )
    ).all()
    if not rows or rows[0].day != day:
        return None
    previous = rows[1].seal if len(rows) > 1 else None
    return StoredSeal(rows[0].day, rows[0].seal, int(rows[0].transaction_count)), previous


async def verify_day(session: AsyncSession, day: date, tenant_id: uuid.UUID | None = None) -> list[SealVerdict]:
    """Each stored seal of `day` (every tenant's, or one's) against the day recomputed from the ledger."""
    seals = (
        await session.execute(
            text("""SELECT tenant_id, day, seal, transaction_count FROM ledger_daily_seals
                     WHERE day = :day AND (CAST(:tenant AS uuid) IS NULL OR tenant_id = CAST(:tenant AS uuid))
                     ORDER BY tenant_id"""),
            {"day": day, "tenant": tenant_id},
        )
    ).all()
    verdicts = []
    for seal in seals:
        transactions = await session.execute(
            text("""SELECT t.id, t.kind, t.member_id, t.rule_code, t.local_date, t.earned_delta, t.reverses_id,
                           array_agg(e.account_id ORDER BY e.id) AS accounts,
                           array_agg(e.amount ORDER BY e.id) AS amounts
                      FROM ledger_transactions t
                      LEFT JOIN ledger_entries e ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id
                     WHERE t.tenant_id = :tenant AND t.local_date = :day
                     GROUP BY t.tenant_id, t.id
                     ORDER BY t.created_at, t.id"""),
            {"tenant": seal.tenant_id, "day": day},
        )
        digests = [
            transaction_digest(
                row.id,
                row.kind,
                row.member_id,
                row.rule_code,
                row.local_date,
                row.earned_delta,
                row.reverses_id,
                [(a, m) for a, m in zip(row.accounts, row.amounts, strict=True) if a is not None],
            )
            for row in transactions
        ]
        verdicts.append(
            SealVerdict(
                tenant_id=seal.tenant_id,
                day=day,
                stored=StoredSeal(seal.day, seal.seal, int(seal.transaction_count)),
                recomputed=daily_seal(day, digests),
                transactions=len(digests),
            )
        )
    return verdicts


async def seal_finished_days(session: AsyncSession, until: date, tenant_id: uuid.UUID | None = None) -> int:
    """Seal each tenant's days before `until` that have transactions and no seal yet; the number sealed.
    A second run (a retried job, another process) finds those days sealed: ON CONFLICT keeps the first."""
    days = await session.execute(
        text(
            """SELECT t.tenant_id, t.local_date, array_agg(t.digest ORDER BY t.created_at, t.id) AS digests
                 FROM ledger_transactions t
                WHERE t.local_date < :until AND (CAST(:tenant AS uuid) IS NULL OR t.tenant_id = :tenant)
                  AND NOT EXISTS (SELECT 1 FROM ledger_daily_seals s
                                   WHERE s.tenant_id = t.tenant_id AND s.day = t.local_date)
                GROUP BY t.tenant_id, t.local_date"""
        ),
        {"until": until, "tenant": tenant_id},
    )
    sealed = 0
    for row in days:
        inserted = await session.execute(
            text(
                "INSERT INTO ledger_daily_seals (tenant_id, day, transaction_count, seal) "
                "VALUES (:tenant, :day, :count, :seal) ON CONFLICT DO NOTHING"
            ),
            {
                "tenant": row.tenant_id,
                "day": row.local_date,
                "count": len(row.digests),
                "seal": daily_seal(row.local_date, row.digests),
            },
        )
        sealed += int(getattr(inserted, "rowcount", 0) or 0)
    return sealed
