"""The member's notices. A notice is a kind and its parameters, put into words when it is read, so a
notice written today reads in either language and in tomorrow's wording."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, DateTime, ForeignKeyConstraint, Index, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

NoticeKind = Literal[
    "points_received",
    "redemption_fulfilled",
    "redemption_expiring",
    "wish_claimed",
    "report_answered",
    "activity_cancelled",
    "shift_tomorrow",
]
NOTICE_KINDS: tuple[str, ...] = get_args(NoticeKind)


class MemberNotice(TenantScoped, Base):
    __tablename__ = "member_notices"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        CheckConstraint(f"kind IN {NOTICE_KINDS!r}", name="kind"),
        # The inbox newest first, and the unread count, are index scans of one member's rows.
        Index("ix_member_notices_member_created", "tenant_id", "member_id", "created_at", "id"),
        Index(
            "ix_member_notices_unread",
            "tenant_id",
            "member_id",
            postgresql_where=text("read_at IS NULL"),
        ),
        # Notices a repeating job writes (a redemption about to expire, a shift tomorrow) name what they
        # are about, so a second run writes none.
        Index("uq_member_notices_once", "tenant_id", "once", unique=True, postgresql_where=text("once IS NOT NULL")),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    once: Mapped[str | None] = mapped_column(String(120), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
