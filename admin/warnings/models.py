"""The daily early-warning run (预警日报): one run per tenant and tenant-local day, what it found, and the
thresholds each tenant chose."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

WARNING_KINDS = (
    "inactive_members",
    "rewards_without_stock",
    "in_service_not_registered",
    "low_duty_attendance",
    "posts_without_holder",
)
DEFAULT_INACTIVE_DAYS = 30
DEFAULT_ATTENDANCE_BELOW = Decimal("0.80")
DEFAULT_DUTY_DAYS = 30


class WarningSettings(Base):
    """A tenant's thresholds, read by the daily run and by on-demand checks that name none. No row: the
    defaults (30 days without earned points, duty attendance below 80% over 30 days)."""

    __tablename__ = "warning_settings"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        CheckConstraint("inactive_days BETWEEN 1 AND 3650", name="inactive_days"),
        CheckConstraint("attendance_below BETWEEN 0 AND 1", name="attendance_below"),
        CheckConstraint("duty_days BETWEEN 1 AND 366", name="duty_days"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    inactive_days: Mapped[int] = mapped_column(Integer, nullable=False)
    attendance_below: Mapped[Decimal] = mapped_column(Numeric(3, 2), nullable=False)
    duty_days: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class WarningRun(TenantScoped, Base):
    """One daily run over the whole tenant. The unique (tenant, day) is what lets every API process and
    a cron job try the same day: the first to insert the row runs it, the others find it taken."""

    __tablename__ = "warning_runs"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        UniqueConstraint("tenant_id", "run_date"),
    )

    run_date: Mapped[date] = mapped_column(Date, nullable=False)
    inactive_days: Mapped[int] = mapped_column(Integer, nullable=False)
    attendance_below: Mapped[Decimal] = mapped_column(Numeric(3, 2), nullable=False)
    duty_days: Mapped[int] = mapped_column(Integer, nullable=False)
    item_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WarningItem(TenantScoped, Base):
    """One finding of a run, with the path of the unit it belongs to, so a staff member reads only the
    findings of their subtree (and the counts per child unit are taken from the paths)."""

    __tablename__ = "warning_items"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "run_id"], ["warning_runs.tenant_id", "warning_runs.id"]),
        CheckConstraint(f"kind IN {WARNING_KINDS!r}", name="kind"),
        Index("ix_warning_items_run", "tenant_id", "run_id", "kind", "position"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    # The check's own order (the on-demand order), kept so a subtree's findings read in the same order.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    path: Mapped[str] = mapped_column(String(2000), nullable=False)
    item: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
