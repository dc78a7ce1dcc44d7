"""Claims (积分申报): a member asks for points under a rule that needs staff approval."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKeyConstraint, Index, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

CLAIM_STATUSES = ("pending", "approved", "rejected")


class Claim(TenantScoped, Base):
    __tablename__ = "claims"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"]),
        ForeignKeyConstraint(["tenant_id", "filed_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "decided_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint(f"status IN {CLAIM_STATUSES!r}", name="status"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name="rejection_reason"),
        Index("ix_claims_member", "tenant_id", "member_id", "created_at"),
        Index("ix_claims_pending", "tenant_id", "created_at", postgresql_where="status = 'pending'"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    rule_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    # The login that filed it: the member's own, or staff / a proxy acting for them (代办).
    filed_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
