"""Posts (岗位), who holds them (认领), and their scheduled shifts (值守)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

POST_CLAIM_STATUSES = ("pending", "approved", "rejected", "released")


class Post(TenantScoped, Base):
    """A standing duty of an org unit (定岗定责定时): what it asks, when, and what an hour of it earns."""

    __tablename__ = "posts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        UniqueConstraint("tenant_id", "org_unit_id", "name"),
    )

    org_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    duty: Mapped[str] = mapped_column(Text, nullable=False, default="")
    schedule: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    rule_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class PostClaim(TenantScoped, Base):
    """A member's claim of a post (认领); approved, they hold it (定人) until released."""

    __tablename__ = "post_claims"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "post_id"], ["posts.tenant_id", "posts.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "acted_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "decided_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint(f"status IN {POST_CLAIM_STATUSES!r}", name="status"),
        CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name="rejection_reason"),
        # One live claim per member and post, enforced where concurrent requests cannot slip past it.
        Index(
            "uq_post_claims_live",
            "tenant_id",
            "post_id",
            "member_id",
            unique=True,
            postgresql_where="status IN ('pending', 'approved')",
        ),
        Index("ix_post_claims_pending", "tenant_id", "created_at", postgresql_where="status = 'pending'"),
    )

    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    acted_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Shift(TenantScoped, Base):
    """One scheduled period of a holder on a post. Its state is read from its times: a shift whose end
    has passed without a check-in is missed (no sweep has to run for the attendance rate to be right)."""

    __tablename__ = "shifts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "post_id"], ["posts.tenant_id", "posts.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "checked_in_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "checked_out_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL", name="in_before_out"),
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours"),
        # Scheduling the same weekly pattern twice adds nothing.
        UniqueConstraint("tenant_id", "post_id", "member_id", "starts_at"),
        Index("ix_shifts_member_start", "tenant_id", "member_id", "starts_at"),
        Index("ix_shifts_post_start", "tenant_id", "post_id", "starts_at"),
    )

    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checked_in_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    checked_out_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Verified time on duty (the check-in/out overlap with the schedule) and what it was paid.
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Why a verified shift was not paid (e.g. the rule's cap was reached), for the member to see.
    unpaid_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
