"""Ledger tables. Sign convention, once: an entry's amount is positive when it adds to its account."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

# Accounts whose balance is cached on the row (locked, CHECKed >= 0) versus system accounts whose
# balance is derived on demand so that awards to different members never wait on one row.
LOCKED_ACCOUNT_KINDS = ("member_available", "member_held", "merchant")
SYSTEM_ACCOUNT_KINDS = ("issuance",)
# A merchant's points are kept on this many accounts (stripes), each locked, cached and chained like
# any other: every fulfilment there credits one of them, so concurrent batches of fulfilments at one
# shop take different rows instead of queuing on one (docs/ledger.md, "a merchant's stripes"). Its
# balance is their sum. Merchants opened before migration 0021 got the same number of stripes.
MERCHANT_STRIPES = 8
ACCOUNT_KINDS = LOCKED_ACCOUNT_KINDS + SYSTEM_ACCOUNT_KINDS

TransactionKind = Literal[
    "award",
    "penalty",
    "adjustment",
    "reversal",
    "redemption_hold",
    "redemption_release",
    "redemption_fulfil",
    "expiry",
]
TRANSACTION_KINDS: tuple[str, ...] = get_args(TransactionKind)
# Kinds whose change of the member's available balance counts as earned (docs/ledger.md, "earned is not balance").
EARNING_KINDS = ("award", "penalty", "adjustment", "reversal")


class LedgerAccount(TenantScoped, Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        CheckConstraint(f"kind IN {ACCOUNT_KINDS!r}", name="kind"),
        # The last line of defence behind the service's own check: no cached balance below zero.
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("(kind LIKE 'member_%') = (member_id IS NOT NULL)", name="member_owner"),
        Index(
            "uq_ledger_accounts_member_kind",
            "tenant_id",
            "member_id",
            "kind",
            unique=True,
            postgresql_where=text("member_id IS NOT NULL"),
        ),
        ForeignKeyConstraint(["tenant_id", "merchant_id"], ["merchants.tenant_id", "merchants.id"]),
        CheckConstraint("(kind = 'merchant') = (merchant_id IS NOT NULL)", name="merchant_owner"),
        Index(
            "uq_ledger_accounts_merchant",
            "tenant_id",
            "merchant_id",
            "stripe",
            unique=True,
            postgresql_where=text("merchant_id IS NOT NULL"),
        ),
        CheckConstraint("stripe >= 0 AND (kind = 'merchant' OR stripe = 0)", name="stripe"),
        Index(
            "uq_ledger_accounts_system_kind",
            "tenant_id",
            "kind",
            unique=True,
            postgresql_where=text("kind IN ('issuance')"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Which of a merchant's accounts this is (0 to MERCHANT_STRIPES - 1); 0 for every other kind.
    stripe: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0, server_default=text("0"))
    # Cached for locked kinds only; system accounts keep 0 here and are never updated.
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    entry_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class LedgerTransaction(TenantScoped, Base):
    """One change of points. Append-only: the database refuses UPDATE and DELETE."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "reverses_id"], ["ledger_transactions.tenant_id", "ledger_transactions.id"]),
        CheckConstraint(f"kind IN {TRANSACTION_KINDS!r}", name="kind"),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_target"),
        # A transaction can be reversed once; the index makes a concurrent second reversal fail.
        Index(
            "uq_ledger_transactions_reverses",
            "tenant_id",
            "reverses_id",
            unique=True,
            postgresql_where=text("reverses_id IS NOT NULL"),
        ),
        Index("ix_ledger_transactions_member_history", "tenant_id", "member_id", "created_at", "id"),
        Index("ix_ledger_transactions_local_date", "tenant_id", "local_date"),
        # The same piece of work (one shift, one attendance, one wish) is paid at most once, whatever
        # is retried or raced: the earning flows name it here and the database refuses a second award.
        Index(
            "uq_ledger_transactions_source",
            "tenant_id",
            "source",
            unique=True,
            postgresql_where=text("source IS NOT NULL"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    rule_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    quantity: Mapped[float | None] = mapped_column(Numeric(12, 2), nullable=True)
    memo: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor_account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # The tenant-local calendar day the points count for (caps, earned months, daily seals).
    local_date: Mapped[date] = mapped_column(Date, nullable=False)
    earned_delta: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # What earned the points, e.g. "shift:<id>" or "activity:<id>:<member id>"; null for staff awards.
    source: Mapped[str | None] = mapped_column(String(120), nullable=True)


class LedgerEntry(Base):
    """One line of a transaction on one account.

    Entries on locked accounts are hash-chained per account (`seq`, `prev_hash`, `hash`); entries on
    system accounts are not chained (that would make the issuance account a hot row again) but
    every entry's content is covered by its transaction's `digest`, which the chained entries embed.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "transaction_id"], ["ledger_transactions.tenant_id", "ledger_transactions.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_ledger_entries_transaction", "tenant_id", "transaction_id"),
        Index(
            "uq_ledger_entries_account_seq",
            "tenant_id",
            "account_id",
            "seq",
            unique=True,
            postgresql_where=text("seq IS NOT NULL"),
        ),
        Index("ix_ledger_entries_account", "tenant_id", "account_id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class MemberEarnedMonthly(Base):
    """Earned points per member and tenant-local month, kept in step with the ledger by the ledger service."""

    __tablename__ = "member_earned_monthly"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        Index("ix_member_earned_monthly_month", "tenant_id", "month"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    earned: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class MemberRuleDaily(Base):
    """Points one member earned from one rule on one local day: what daily and monthly caps read."""

    __tablename__ = "member_rule_daily"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"]),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    rule_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class DailySeal(Base):
    """A hash over one tenant-local day's transactions, so a disclosure can be verified later."""

    __tablename__ = "ledger_daily_seals"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    transaction_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    seal: Mapped[str] = mapped_column(String(64), nullable=False)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
