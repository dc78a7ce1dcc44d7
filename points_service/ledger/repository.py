"""SQL of the ledger, written by hand: explicit statements, row locks taken in sorted id order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.database.driver import DriverStatement
from points_service.errors import AlreadyAwarded
from points_service.inbox.notices import Notice, notice_columns
from points_service.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction

# Hot-path statements, built once: a text() parses its bind parameters when it is made.
LOCK_ACCOUNTS = DriverStatement(
    text(
        """
    SELECT id, kind, member_id, merchant_id, balance, entry_count, last_hash
      FROM ledger_accounts
     WHERE tenant_id = :tenant AND member_id = ANY(:members)
     ORDER BY id
       FOR UPDATE
    """
    )
)

# One of a merchant's stripes that no other transaction holds, without waiting for any: concurrent
# batches of fulfilments at one shop each take their own. The lowest free stripe, so a quiet shop
# keeps writing to one.
LOCK_FREE_STRIPE = DriverStatement(
    text(
        """
    SELECT id, kind, member_id, merchant_id, balance, entry_count, last_hash
      FROM ledger_accounts
     WHERE tenant_id = :tenant AND merchant_id = :merchant
     ORDER BY stripe
     LIMIT 1
       FOR UPDATE SKIP LOCKED
    """
    )
)

# Every stripe is taken: wait for one of them, drawn at random so the waiters spread out.
LOCK_ANY_STRIPE = DriverStatement(
    text(
        """
    SELECT id, kind, member_id, merchant_id, balance, entry_count, last_hash
      FROM ledger_accounts
     WHERE tenant_id = :tenant AND merchant_id = :merchant
     ORDER BY random()
     LIMIT 1
       FOR UPDATE
    """
    )
)

INACTIVE_MEMBERS = text("SELECT id FROM members WHERE tenant_id = :tenant AND id = ANY(:ids) AND NOT active")
RULE_USAGE = text(
    """
    SELECT member_id,
           coalesce(sum(points) FILTER (WHERE day = :day), 0) AS today,
           coalesce(sum(points), 0) AS this_month
      FROM member_rule_daily
     WHERE tenant_id = :tenant AND rule_id = :rule AND member_id = ANY(:members)
       AND day BETWEEN :month_start AND :month_end
     GROUP BY member_id
    """
)

WRITE_POSTINGS = DriverStatement(
    text(
        """
    WITH new_transactions AS (
        INSERT INTO ledger_transactions
            (tenant_id, id, kind, member_id, rule_id, rule_code, quantity, memo, actor_account_id,
             reverses_id, local_date, earned_delta, digest, source, created_at)
        SELECT :tenant, t.*
          FROM unnest(CAST(:t_ids AS uuid[]), CAST(:t_kinds AS text[]), CAST(:t_members AS uuid[]),
                      CAST(:t_rules AS uuid[]), CAST(:t_rule_codes AS text[]),
                      CAST(:t_quantities AS numeric[]), CAST(:t_memos AS text[]),
                      CAST(:t_actors AS uuid[]), CAST(:t_reverses AS uuid[]),
                      CAST(:t_dates AS date[]), CAST(:t_earned AS bigint[]),
                      CAST(:t_digests AS text[]), CAST(:t_sources AS text[]),
                      CAST(:t_created AS timestamptz[])) AS t
    ),
    new_entries AS (
        INSERT INTO ledger_entries (tenant_id, transaction_id, account_id, amount, seq, prev_hash, hash)
        SELECT :tenant, e.*
          FROM unnest(CAST(:e_transactions AS uuid[]), CAST(:e_accounts AS uuid[]),
                      CAST(:e_amounts AS bigint[]), CAST(:e_seqs AS bigint[]),
                      CAST(:e_prev AS text[]), CAST(:e_hashes AS text[])) AS e
    ),
    account_states AS (
        UPDATE ledger_accounts AS a
           SET balance = v.balance, entry_count = v.entry_count, last_hash = v.last_hash
          FROM unnest(CAST(:a_ids AS uuid[]), CAST(:a_balances AS bigint[]),
                      CAST(:a_counts AS bigint[]), CAST(:a_hashes AS text[]))
               AS v(id, balance, entry_count, last_hash)
         -- The ids once more as an array: a generic plan (asyncpg prepares, PostgreSQL reuses) otherwise
         -- hash-joins the unnest against every account of the tenant (a sequential scan per batch).
         WHERE a.tenant_id = :tenant AND a.id = v.id AND a.id = ANY(CAST(:a_ids AS uuid[]))
    ),
    cap_usage AS (
        INSERT INTO member_rule_daily (tenant_id, member_id, rule_id, day, points)
        SELECT :tenant, v.*
          FROM unnest(CAST(:u_members AS uuid[]), CAST(:u_rules AS uuid[]), CAST(:u_days AS date[]),
                      CAST(:u_points AS bigint[])) AS v(member_id, rule_id, day, points)
        ON CONFLICT (tenant_id, member_id, rule_id, day)
        DO UPDATE SET points = member_rule_daily.points + EXCLUDED.points
    ),
    -- The members' inbox messages about these postings (inbox/notices.py, WRITE_NOTICES): in the
    -- same transaction as the points, without a round trip of their own.
    new_notices AS (
        INSERT INTO member_notices (tenant_id, id, member_id, kind, params, once)
        SELECT :tenant, n.id, n.member_id, n.kind, CAST(n.params AS jsonb), n.once
          FROM unnest(CAST(:n_ids AS uuid[]), CAST(:n_members AS uuid[]), CAST(:n_kinds AS text[]),
                      CAST(:n_params AS text[]), CAST(:n_onces AS text[])) AS n(id, member_id, kind, params, once)
        ON CONFLICT (tenant_id, once) WHERE once IS NOT NULL DO NOTHING
    ),
    earned_now AS (
        INSERT INTO member_earned_monthly (tenant_id, member_id, month, earned)
        SELECT :tenant, v.*
          FROM unnest(CAST(:m_members AS uuid[]), CAST(:m_months AS date[]), CAST(:m_earned AS bigint[]))
               AS v(member_id, month, earned)
        ON CONFLICT (tenant_id, member_id, month)
        DO UPDATE SET earned = member_earned_monthly.earned + EXCLUDED.earned
        RETURNING member_id, month, earned
    ),
    earned_months AS (
        SELECT member_id, month, earned FROM earned_now
        UNION ALL
        SELECT e.member_id, e.month, e.earned
          FROM member_earned_monthly e
         WHERE e.tenant_id = :tenant AND e.member_id = ANY(:m_members)
           AND NOT EXISTS (SELECT 1 FROM earned_now n WHERE n.member_id = e.member_id AND n.month = e.month)
    )
    -- A subquery per row, not a join: a prepared statement's generic plan cannot know how few
    -- rows come back and would hash-join them against every member of the tenant.
    SELECT em.member_id, em.month, em.earned,
           (SELECT u.path
              FROM members m
              JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
             WHERE m.tenant_id = :tenant AND m.id = em.member_id) AS path
      FROM earned_months em
    """
    )
)

# Read on asyncpg directly (points_service/database/reads.py): $1 tenant, $2 member, $3 this month,
# $4 the start of this year, in the tenant's time zone.
BALANCE = """
    SELECT max(a.balance) FILTER (WHERE a.kind = 'member_available') AS available,
           max(a.balance) FILTER (WHERE a.kind = 'member_held') AS held,
           (SELECT coalesce(sum(e.earned), 0) FROM member_earned_monthly e
             WHERE e.tenant_id = $1 AND e.member_id = $2) AS total,
           (SELECT coalesce(sum(e.earned), 0) FROM member_earned_monthly e
             WHERE e.tenant_id = $1 AND e.member_id = $2 AND e.month = $3) AS this_month,
           (SELECT coalesce(sum(e.earned), 0) FROM member_earned_monthly e
             WHERE e.tenant_id = $1 AND e.member_id = $2 AND e.month >= $4) AS this_year
      FROM ledger_accounts a
     WHERE a.tenant_id = $1 AND a.member_id = $2
"""

TENANT_TIMEZONE = "SELECT timezone FROM tenants WHERE id = $1"


@dataclass
class LockedAccount:
    id: uuid.UUID
    kind: str
    member_id: uuid.UUID | None
    merchant_id: uuid.UUID | None
    balance: int
    entry_count: int
    last_hash: str


@dataclass(frozen=True)
class EarnedMonth:
    member_id: uuid.UUID
    month: date
    earned: int
    unit_path: str


@dataclass(frozen=True)
class MemberAccounts:
    member_id: uuid.UUID
    available_id: uuid.UUID
    held_id: uuid.UUID


def member_accounts_of(locked: dict[uuid.UUID, LockedAccount]) -> dict[uuid.UUID, MemberAccounts]:
    by_member: dict[uuid.UUID, dict[str, LockedAccount]] = {}
    for account in locked.values():
        if account.member_id is not None:
            by_member.setdefault(account.member_id, {})[account.kind] = account
    return {
        member_id: MemberAccounts(member_id, kinds["member_available"].id, kinds["member_held"].id)
        for member_id, kinds in by_member.items()
    }


def _columns(prefix: str, rows: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[Any]]:
    """Rows as one array per column, the shape `unnest` takes."""
    return {prefix + param: [row[column] for row in rows] for param, column in names.items()}


class LedgerRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def system_account_id(self, kind: str) -> uuid.UUID | None:
        return await self.session.scalar(
            select(LedgerAccount.id).where(LedgerAccount.tenant_id == self.tenant_id, LedgerAccount.kind == kind)
        )

    async def add_accounts(self, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(insert(LedgerAccount).values([{"tenant_id": self.tenant_id, **row} for row in rows]))

    async def lock_accounts(self, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LockedAccount]:
        """Every cached account of these members, locked in one statement.

        Sorted by id within one statement: every transfer takes its locks in the same global order,
        so two transfers over the same accounts queue instead of deadlocking. System accounts are
        never locked (docs/ledger.md, "no hot rows")."""
        rows = await LOCK_ACCOUNTS.fetch(self.session, {"tenant": self.tenant_id, "members": list(member_ids)})
        return {row["id"]: LockedAccount(*row) for row in rows}

    async def lock_merchant_stripe(self, merchant_id: uuid.UUID) -> LockedAccount | None:
        """One of the merchant's accounts (stripes), locked: a free one if any, else the first of
        them to come free. Taken after the members' accounts and last of all a transaction's locks:
        whoever holds a stripe already holds everything else it needs and waits for nothing more,
        so waiting here cannot deadlock. None for an unknown merchant."""
        params = {"tenant": self.tenant_id, "merchant": merchant_id}
        rows = await LOCK_FREE_STRIPE.fetch(self.session, params)
        if not rows:
            rows = await LOCK_ANY_STRIPE.fetch(self.session, params)
        return LockedAccount(*rows[0]) if rows else None

    async def rule_usage(
        self, rule_id: uuid.UUID, member_ids: Sequence[uuid.UUID], day: date, month_start: date, month_end: date
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """(points today, points this month) each member earned from one rule."""
        rows = await self.session.execute(
            RULE_USAGE,
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

    async def inactive_members(self, member_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        """Which of these members are switched off (they earn nothing new; points and history stay)."""
        rows = await self.session.scalars(INACTIVE_MEMBERS, {"tenant": self.tenant_id, "ids": list(member_ids)})
        return list(rows)

    async def awarded_sources(self, sources: Sequence[str]) -> list[str]:
        rows = await self.session.scalars(
            select(LedgerTransaction.source).where(
                LedgerTransaction.tenant_id == self.tenant_id, LedgerTransaction.source.in_(sources)
            )
        )
        return list(rows)

    async def write_postings(
        self,
        transactions: list[dict[str, Any]],
        entries: list[dict[str, Any]],
        accounts: Sequence[LockedAccount],
        earned: dict[tuple[uuid.UUID, date], int],
        usage: dict[tuple[uuid.UUID, uuid.UUID, date], int],
        notices: Sequence[Notice] = (),
    ) -> list[EarnedMonth]:
        """Write everything a set of postings changes in one statement (one round trip), and read
        back every earned month of the members whose earned points changed, with their unit path.

        The parts are data-modifying CTEs of one statement: they succeed or fail together, foreign
        keys are checked at its end, and the deferred sum-to-zero trigger still runs at commit. The
        final SELECT sees the table as it was before the statement, so the months just written
        are taken from the upsert's RETURNING and the others from the table. The postings' `notices`
        (the members' inbox messages) are written by the same statement. A second payment of
        the same work (its `source`) is refused with `AlreadyAwarded`."""
        earned_keys = list(earned)
        usage_keys = list(usage)
        try:
            rows = await WRITE_POSTINGS.fetch(
                self.session,
                {
                    "tenant": self.tenant_id,
                    **_columns(
                        "t_",
                        transactions,
                        {
                            "ids": "id",
                            "kinds": "kind",
                            "members": "member_id",
                            "rules": "rule_id",
                            "rule_codes": "rule_code",
                            "quantities": "quantity",
                            "memos": "memo",
                            "actors": "actor_account_id",
                            "reverses": "reverses_id",
                            "dates": "local_date",
                            "earned": "earned_delta",
                            "digests": "digest",
                            "sources": "source",
                            "created": "created_at",
                        },
                    ),
                    **_columns(
                        "e_",
                        entries,
                        {
                            "transactions": "transaction_id",
                            "accounts": "account_id",
                            "amounts": "amount",
                            "seqs": "seq",
                            "prev": "prev_hash",
                            "hashes": "hash",
                        },
                    ),
                    "a_ids": [account.id for account in accounts],
                    "a_balances": [account.balance for account in accounts],
                    "a_counts": [account.entry_count for account in accounts],
                    "a_hashes": [account.last_hash for account in accounts],
                    "u_members": [key[0] for key in usage_keys],
                    "u_rules": [key[1] for key in usage_keys],
                    "u_days": [key[2] for key in usage_keys],
                    "u_points": [usage[key] for key in usage_keys],
                    "m_members": [key[0] for key in earned_keys],
                    "m_months": [key[1] for key in earned_keys],
                    "m_earned": [earned[key] for key in earned_keys],
                    **notice_columns(notices, "n_"),
                },
            )
        except asyncpg.UniqueViolationError as error:
            # Two requests paying the same work raced past the service's check; the unique index decides.
            if error.constraint_name == "uq_ledger_transactions_source":
                raise AlreadyAwarded() from error
            raise
        return [EarnedMonth(*row) for row in rows]

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

    async def history(
        self,
        member_id: uuid.UUID,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Any]:
        return list(
            await self.session.execute(
                text(
                    f"""
                    SELECT t.id, t.created_at, t.kind, t.rule_code, t.memo, coalesce(e.amount, 0) AS amount,
                           coalesce(h.amount, 0) AS held_amount, t.quantity, t.source, r.name AS rule_name,
                           r.unit AS rule_unit
                      FROM ledger_transactions t
                      LEFT JOIN ledger_entries e
                        ON e.tenant_id = t.tenant_id AND e.transaction_id = t.id
                       AND e.account_id = (SELECT a.id FROM ledger_accounts a
                                            WHERE a.tenant_id = :tenant AND a.member_id = :member
                                              AND a.kind = 'member_available')
                      -- A fulfilment moves held points only: the held side says what it cost.
                      LEFT JOIN ledger_entries h
                        ON h.tenant_id = t.tenant_id AND h.transaction_id = t.id
                       AND h.account_id = (SELECT a.id FROM ledger_accounts a
                                            WHERE a.tenant_id = :tenant AND a.member_id = :member
                                              AND a.kind = 'member_held')
                      LEFT JOIN rules r ON r.tenant_id = t.tenant_id AND r.id = t.rule_id
                     WHERE t.tenant_id = :tenant AND t.member_id = :member
                       {"AND (t.created_at, t.id) < (:before_at, :before_id)" if before else ""}
                     ORDER BY t.created_at DESC, t.id DESC
                     LIMIT :limit
                    """  # noqa: S608 - the only interpolation is a fixed clause
                ),
                {
                    "tenant": self.tenant_id,
                    "member": member_id,
                    "limit": limit,
                    "before_at": before[0] if before else None,
                    "before_id": before[1] if before else None,
                },
            )
        )


async def read_balance(
    pool: asyncpg.Pool, tenant_id: uuid.UUID, member_id: uuid.UUID, month: date, year_start: date
) -> tuple[int, int, int, int, int] | None:
    """(available, held, earned in all, this month, this year), read in one statement so the
    figures belong to one snapshot; None for an unknown member."""
    row = await pool.fetchrow(BALANCE, tenant_id, member_id, month, year_start)
    if row is None or row["available"] is None:
        return None
    return int(row["available"]), int(row["held"]), int(row["total"]), int(row["this_month"]), int(row["this_year"])


async def read_tenant_timezone(pool: asyncpg.Pool, tenant_id: uuid.UUID) -> str | None:
    return await pool.fetchval(TENANT_TIMEZONE, tenant_id)
