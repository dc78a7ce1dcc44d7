"""Volunteer activities (志愿服务活动), who signed up, and who came."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

SIGNUP_STATUSES = ("signed_up", "cancelled")


class Activity(TenantScoped, Base):
    __tablename__ = "activities"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"]),
        ForeignKeyConstraint(["tenant_id", "penalty_rule_id"], ["rules.tenant_id", "rules.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "cancelled_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("capacity > 0", name="capacity"),
        # The counter the conditional UPDATE of a sign-up moves; the database refuses an oversold row.
        CheckConstraint("signed_up >= 0 AND signed_up <= capacity", name="not_oversold"),
        CheckConstraint("radius_m IS NULL OR (latitude IS NOT NULL AND longitude IS NOT NULL)", name="place"),
        Index("ix_activities_unit_start", "tenant_id", "org_unit_id", "starts_at"),
        Index("ix_activities_unconfirmed", "tenant_id", "ends_at", postgresql_where="confirmed_at IS NULL"),
    )

    org_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    place: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    radius_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    signed_up: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rule_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    penalty_rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Called off by staff: nobody signs up, checks in or is paid any more, and its members see why.
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ActivitySignup(TenantScoped, Base):
    """One member on one activity. `acted_by` is the login that signed them up when it was not
    their own (staff or an appointed proxy, 代办); `checked_in_by` likewise for the check-in."""

    __tablename__ = "activity_signups"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "activity_id"], ["activities.tenant_id", "activities.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "acted_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "checked_in_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        UniqueConstraint("tenant_id", "activity_id", "member_id"),
        CheckConstraint(f"status IN {SIGNUP_STATUSES!r}", name="status"),
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours"),
        Index("ix_activity_signups_member", "tenant_id", "member_id", "created_at"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="signed_up")
    acted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checked_in_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set when staff confirm: attended or not, and the hours paid.
    attended: Mapped[bool | None] = mapped_column(nullable=True)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2), nullable=True)
