"""Problem reports (民情) and the trail of what happened to each: accepted, escalated, resolved."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKeyConstraint, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

REPORT_CATEGORIES = ("hazard", "dispute", "facility", "sanitation", "household_visit", "other")
REPORT_STATUSES = ("submitted", "accepted", "resolved", "rejected")
REPORT_ACTIONS = ("filed", "accepted", "escalated", "resolved", "rejected")


class ProblemReport(TenantScoped, Base):
    __tablename__ = "problem_reports"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "reported_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "handling_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "filed_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint(f"category IN {REPORT_CATEGORIES!r}", name="category"),
        CheckConstraint(f"status IN {REPORT_STATUSES!r}", name="status"),
        CheckConstraint("status <> 'resolved' OR resolution IS NOT NULL", name="resolution"),
        Index("ix_problem_reports_reported", "tenant_id", "reported_unit_id", "created_at"),
        Index("ix_problem_reports_open", "tenant_id", "created_at", postgresql_where="status = 'submitted'"),
    )

    # Where the problem is (the reporter's unit) and who handles it now: escalation moves the second
    # up the tree, building → area → community → street → district, one level at a time.
    reported_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    handling_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    filed_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    place: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="submitted")
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The member credited with the resolution (a grid worker, the reporter); paid under its rule.
    resolved_by_member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class ReportEvent(TenantScoped, Base):
    __tablename__ = "report_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "report_id"], ["problem_reports.tenant_id", "problem_reports.id"]),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint(f"action IN {REPORT_ACTIONS!r}", name="action"),
        Index("ix_report_events_report", "tenant_id", "report_id", "created_at"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)  # the handling unit after the act
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
