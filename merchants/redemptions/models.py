from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

REDEMPTION_STATUSES = ("pending", "fulfilled", "cancelled", "expired")


class Redemption(TenantScoped, Base):
    """A member's order for a reward, settled at the counter with a one-time code (docs/api.md, "Redemptions")."""

    __tablename__ = "redemptions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "reward_id"], ["rewards.tenant_id", "rewards.id"]),
        ForeignKeyConstraint(["tenant_id", "merchant_id"], ["merchants.tenant_id", "merchants.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "hold_transaction_id"], ["ledger_transactions.tenant_id", "ledger_transactions.id"]
        ),
        ForeignKeyConstraint(
            ["tenant_id", "settle_transaction_id"], ["ledger_transactions.tenant_id", "ledger_transactions.id"]
        ),
        CheckConstraint(f"status IN {REDEMPTION_STATUSES!r}", name="status"),
        CheckConstraint("quantity BETWEEN 1 AND 100", name="quantity"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("(status = 'pending') = (settle_transaction_id IS NULL)", name="settled_unless_pending"),
        Index("uq_redemptions_code", "tenant_id", "code", unique=True),
        Index("ix_redemptions_member", "tenant_id", "member_id", "created_at"),
        Index("ix_redemptions_member_reward", "tenant_id", "member_id", "reward_id"),
        Index("ix_redemptions_merchant_settled", "tenant_id", "merchant_id", "settled_at"),
        Index("ix_redemptions_due", "expires_at", postgresql_where=text("status = 'pending'")),
    )

    reward_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    merchant_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    points: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Stored without the hyphen, upper case; shown as XXXX-XXXX.
    code: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    hold_transaction_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    settle_transaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    settled_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class StockTake(Base):
    """Stock a redemption batch took in a transaction of its own (merchants/redemptions/stock.py), until
    the batch commits and deletes it in the same transaction: one that outlives its batch for longer
    than a grace period was never redeemed, and the sweep gives it back. One row per take and reward."""

    __tablename__ = "stock_takes"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "reward_id"], ["rewards.tenant_id", "rewards.id"]),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    reward_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


def status_now(redemption: HasStatus, now: datetime | None = None) -> str:
    """A pending code past `expires_at` is expired for every purpose, swept or not."""
    if redemption.status == "pending" and redemption.expires_at <= (now or datetime.now(UTC)):
        return "expired"
    return redemption.status
