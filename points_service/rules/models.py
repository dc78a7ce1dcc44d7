from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

RULE_CATEGORIES = ("volunteer", "duty", "wish", "report", "meeting", "feedback", "penalty", "other")
RULE_UNITS = ("each", "hour")


class Rule(TenantScoped, Base):
    """What earns or costs points (积分规则)."""

    __tablename__ = "rules"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint(f"category IN {RULE_CATEGORIES!r}", name="category"),
        CheckConstraint(f"unit IN {RULE_UNITS!r}", name="unit"),
        CheckConstraint("(category = 'penalty') = (points < 0) AND points <> 0", name="points_sign"),
        CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name="daily_cap"),
        CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name="monthly_cap"),
    )

    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    points: Mapped[int] = mapped_column(BigInteger, nullable=False)
    unit: Mapped[str] = mapped_column(String(8), nullable=False, default="each")
    daily_cap: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    monthly_cap: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
