"""Micro-wishes (微心愿). The resident has no account: their name and contact are kept for staff and the
member who fulfils the wish, and shown masked to everyone else."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKeyConstraint, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

WISH_STATUSES = ("open", "claimed", "fulfilled", "verified", "cancelled")


class Wish(TenantScoped, Base):
    __tablename__ = "wishes"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"]),
        ForeignKeyConstraint(["tenant_id", "posted_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "claimed_by"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "verified_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint(f"status IN {WISH_STATUSES!r}", name="status"),
        # One member at a time: a claimed, fulfilled or verified wish names its member; an open one none.
        CheckConstraint(
            "(status IN ('claimed', 'fulfilled', 'verified')) = (claimed_by IS NOT NULL)", name="claimed_by"
        ),
        Index("ix_wishes_unit_status", "tenant_id", "org_unit_id", "status"),
        Index("ix_wishes_claimed_by", "tenant_id", "claimed_by", "verified_at"),
    )

    org_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    resident_name: Mapped[str] = mapped_column(String(50), nullable=False)
    resident_contact: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # The rule that pays it; staff may choose it when verifying a wish a member posted.
    rule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    posted_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fulfilment_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
