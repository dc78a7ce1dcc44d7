from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

# `refused`: an application staff turned down (its clerk still signs in, to read why).
MERCHANT_STATUSES = ("pending", "active", "suspended", "refused")


class Merchant(TenantScoped, Base):
    """A partner shop (商户) serving the members of one org subtree."""

    __tablename__ = "merchants"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        CheckConstraint(f"status IN {MERCHANT_STATUSES!r}", name="status"),
        Index("ix_merchants_org_unit", "tenant_id", "org_unit_id"),
    )

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    address: Mapped[str] = mapped_column(String(300), nullable=False)
    org_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    # Titles such as 诚信商户 or 党员经营户, shown to members beside the merchant's name.
    honours: Mapped[list[str]] = mapped_column(ARRAY(String(50)), nullable=False, default=list)
    # Why staff refused the application or suspended the shop; shown to its clerk.
    status_note: Mapped[str | None] = mapped_column(Text, nullable=True)
