"""SQL of the ledger, written by hand: explicit statements, row locks taken in sorted id order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.ledger.models import LOCKED_ACCOUNT_KINDS, LedgerAccount, LedgerEntry, LedgerTransaction
from points_service.org.models import Member, OrgUnit


@dataclass
class LockedAccount:
    id: uuid.UUID
    kind: str
    member_id: uuid.UUID | None
    balance: int
    entry_count: int
    last_hash: str


@dataclass(frozen=True)
class MemberAccounts:
    member_id: uuid.UUID
    available_id: uuid.UUID
    held_id: uuid.UUID
    # As read, without a lock: good for showing, never for deciding a change.
    available: int = 0
    held: int = 0


class LedgerRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def system_account_id(self, kind: str) -> uuid.UUID | None:
        return await self.session.scalar(
            select(LedgerAccount.id).where(LedgerAccount.tenant_id == self.tenant_id, LedgerAccount.kind == kind)
        )

    async def merchant_account_id(self, merchant_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(LedgerAccount.id).where(
                LedgerAccount.tenant_id == self.tenant_id, LedgerAccount.merchant_id == merchant_id
            )
        )

    async def add_accounts(self, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(insert(LedgerAccount).values([{"tenant_id": self.tenant_id, **row} for row in rows]))

    async def member_accounts(self, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MemberAccounts]:
        rows = await self.session.execute(
            select(LedgerAccount.member_id, LedgerAccount.kind, LedgerAccount.id, LedgerAccount.balance).where(
                LedgerAccount.tenant_id == self.tenant_id, LedgerAccount.member_id.in_(member_ids)
            )
        )
        by_member: dict[uuid.UUID, dict[str, tuple[uuid.UUID, int]]] = {}
        for member_id, kind, account_id, balance in rows:
            by_member.setdefault(member_id, {})[kind] = (account_id, balance)
        return {
            member_id: MemberAccounts(
                member_id,
                kinds["member_available"][0],
                kinds["member_held"][0],
                kinds["member_available"][1],
                kinds["member_held"][1],
            )
            for member_id, kinds in by_member.items()
        }

    async def unit_paths(self, member_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        rows = await self.session.execute(
            select(Member.id, OrgUnit.path)
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .where(Member.tenant_id == self.tenant_id, Member.id.in_(member_ids))
        )
        return {member_id: path for member_id, path in rows}

    async def lock_accounts(self, account_ids: set[uuid.UUID]) -> dict[uuid.UUID, LockedAccount]:
        # Sorted ids, one statement: every transfer takes its locks in the same global order,
        # so two transfers over the same accounts queue instead of deadlocking.
        rows = await self.session.execute(
            select(
                LedgerAccount.id,
                LedgerAccount.kind,
                LedgerAccount.member_id,
                LedgerAccount.balance,
                LedgerAccount.entry_count,
                LedgerAccount.last_hash,
            )
            .where(
                LedgerAccount.tenant_id == self.tenant_id,
                LedgerAccount.id.in_(sorted(account_ids)),
                # System accounts are never locked (DESIGN.md 3.6: no hot rows).
                LedgerAccount.kind.in_(LOCKED_ACCOUNT_KINDS),
            )
            .order_by(LedgerAccount.id)
            .with_for_update()
        )
        return {row.id: LockedAccount(*row) for row in rows}

    async def rule_usage(
        self, rule_id: uuid.UUID, member_ids: Sequence[uuid.UUID], day: date, month_start: date, month_end: date
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """(points today, points this month) each member earned from one rule."""
        rows = await self.session.execute(
            text(
                """
                SELECT member_id,
                       coalesce(sum(points) FILTER (WHERE day = :day), 0) AS today,
                       coalesce(sum(points), 0) AS this_month
                  FROM member_rule_daily
                 WHERE tenant_id = :tenant AND rule_id = :rule AND member_id = ANY(:members)
                   AND day BETWEEN :month_start AND :month_end
                 GROUP BY member_id
                """
            ),
            {
                "tenant": self.tenant_id,
                "rule": rule_id,
                "members": list(member_ids),
                "day": day,
                "month_start": month_start,
                "month_end": month_end,
            },
        )
        return {row.member_id: (int(row.today), int(row.this_month)) for row in rows}

    async def awarded_sources(self, sources: Sequence[str]) -> list[str]:
        rows = await self.session.scalars(
            select(LedgerTransaction.source).where(
                LedgerTransaction.tenant_id == self.tenant_id, LedgerTransaction.source.in_(sources)
            )
        )
        return list(rows)

    async def insert_transactions(self, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(insert(LedgerTransaction), rows)

    async def insert_entries(self, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(insert(LedgerEntry), rows)

    async def save_account_states(self, accounts: Sequence[LockedAccount]) -> None:
        await self.session.execute(
            text(
                """
                UPDATE ledger_accounts AS a
                   SET balance = v.balance, entry_count = v.entry_count, last_hash = v.last_hash
                  FROM unnest(CAST(:ids AS uuid[]), CAST(:balances AS bigint[]), CAST(:counts AS bigint[]),
                              CAST(:hashes AS text[])) AS v(id, balance, entry_count, last_hash)
                 WHERE a.tenant_id = :tenant AND a.id = v.id
                """
            ),
            {
                "tenant": self.tenant_id,
                "ids": [account.id for account in accounts],
                "balances": [account.balance for account in accounts],
                "counts": [account.entry_count for account in accounts],
                "hashes": [account.last_hash for account in accounts],
            },
        )

    async def add_earned(self, earned: dict[tuple[uuid.UUID, date], int]) -> None:
        if not earned:
            return
        keys = list(earned)
        await self.session.execute(
            text(
                """
                INSERT INTO member_earned_monthly (tenant_id, member_id, month, earned)
                SELECT :tenant, v.member_id, v.month, v.earned
                  FROM unnest(CAST(:members AS uuid[]), CAST(:months AS date[]), CAST(:amounts AS bigint[]))
                       AS v(member_id, month, earned)
                ON CONFLICT (tenant_id, member_id, month)
                DO UPDATE SET earned = member_earned_monthly.earned + EXCLUDED.earned
                """
            ),
            {
                "tenant": self.tenant_id,
                "members": [k[0] for k in keys],
                "months": [k[1] for k in keys],
                "amounts": [earned[k] for k in keys],
            },
        )

    async def add_rule_usage(self, usage: dict[tuple[uuid.UUID, uuid.UUID, date], int]) -> None:
        if not usage:
            return
        keys = list(usage)
        await self.session.execute(
            text(
                """
                INSERT INTO member_rule_daily (tenant_id, member_id, rule_id, day, points)
                SELECT :tenant, v.member_id, v.rule_id, v.day, v.points
                  FROM unnest(CAST(:members AS uuid[]), CAST(:rules AS uuid[]), CAST(:days AS date[]),
                              CAST(:amounts AS bigint[])) AS v(member_id, rule_id, day, points)
                ON CONFLICT (tenant_id, member_id, rule_id, day)
                DO UPDATE SET points = member_rule_daily.points + EXCLUDED.points
                """
            ),
            {
                "tenant": self.tenant_id,
                "members": [k[0] for k in keys],
                "rules": [k[1] for k in keys],
                "days": [k[2] for k in keys],
                "amounts": [usage[k] for k in keys],
            },
        )

    async def transaction(self, transaction_id: uuid.UUID) -> LedgerTransaction | None:
        return await self.session.scalar(
            select(LedgerTransaction).where(
                LedgerTransaction.tenant_id == self.tenant_id, LedgerTransaction.id == transaction_id
            )
        )

    async def reversal_of(self, transaction_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(LedgerTransaction.id).where(
                LedgerTransaction.tenant_id == self.tenant_id, LedgerTransaction.reverses_id == transaction_id
            )
        )

    async def entries_of(self, transaction_id: uuid.UUID) -> list[tuple[uuid.UUID, int]]:
        rows = await self.session.execute(
            select(LedgerEntry.account_id, LedgerEntry.amount)
            .where(LedgerEntry.tenant_id == self.tenant_id, LedgerEntry.transaction_id == transaction_id)
            .order_by(LedgerEntry.id)
        )
        return [(row.account_id, row.amount) for row in rows]

    async def earned(self, member_id: uuid.UUID, month: date, year_start: date) -> tuple[int, int, int]:
        row = (
            await self.session.execute(
                text(
                    """
                    SELECT coalesce(sum(earned), 0) AS total,
                           coalesce(sum(earned) FILTER (WHERE month = :month), 0) AS this_month,
                           coalesce(sum(earned) FILTER (WHERE month >= :year_start), 0) AS this_year
                      FROM member_earned_monthly
                     WHERE tenant_id = :tenant AND member_id = :member
                    """
                ),
                {"tenant": self.tenant_id, "member": member_id, "month": month, "year_start": year_start},
            )
        ).one()
        return int(row.total), int(row.this_month), int(row.this_year)

    async def history(
        self,
        member_id: uuid.UUID,
        available_account_id: uuid.UUID,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Any]:
        return list(
            await self.session.execute(
                text(
                    f"""
                    SELECT t.id, t.created_at, t.kind, t.rule_code, t.memo, coalesce(e.amount, 0) AS amount
                      FROM ledger_transactions t
                      LEFT JOIN ledger_entries e
                        ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id AND e.account_id = :account
                     WHERE t.tenant_id = :tenant AND t.member_id = :member
                       {"AND (t.created_at, t.id) < (:before_at, :before_id)" if before else ""}
                     ORDER BY t.created_at DESC, t.id DESC
                     LIMIT :limit
                    """  # noqa: S608 - the only interpolation is a fixed clause
                ),
                {
                    "tenant": self.tenant_id,
                    "member": member_id,
                    "account": available_account_id,
                    "limit": limit,
                    "before_at": before[0] if before else None,
                    "before_id": before[1] if before else None,
                },
            )
        )
