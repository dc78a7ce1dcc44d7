from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

REWARD_STATUSES = ("active", "inactive")
# Communities often allow one redemption per member per quarter: the per-member limit then counts
# only redemptions made in the current calendar period (tenant-local), not for ever.
LIMIT_PERIODS = ("month", "quarter", "year")


class Reward(TenantScoped, Base):
    """What a merchant offers for points. `stock` is what is left: pending redemptions already took theirs."""

    __tablename__ = "rewards"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "merchant_id"], ["merchants.tenant_id", "merchants.id"]),
        CheckConstraint(f"status IN {REWARD_STATUSES!r}", name="status"),
        CheckConstraint("points_price > 0", name="price_positive"),
        # Behind the conditional decrement: stock can never be oversold, even by a bug.
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("per_member_limit IS NULL OR per_member_limit >= 1", name="per_member_limit"),
        CheckConstraint("redemption_window_hours BETWEEN 1 AND 8760", name="window"),
        CheckConstraint(f"limit_period IS NULL OR limit_period IN {LIMIT_PERIODS!r}", name="limit_period"),
        CheckConstraint("limit_period IS NULL OR per_member_limit IS NOT NULL", name="limit_period_has_limit"),
        Index("ix_rewards_merchant", "tenant_id", "merchant_id"),
    )

    merchant_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    points_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    stock: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    per_member_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    limit_period: Mapped[str | None] = mapped_column(String(10), nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    redemption_window_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=72)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
