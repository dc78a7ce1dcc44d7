"""An in-service Party member's registration with their residential community (双报到)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Date, ForeignKeyConstraint, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped


class ServiceRegistration(TenantScoped, Base):
    __tablename__ = "service_registrations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        # A member reports to one community; registering again moves them.
        UniqueConstraint("tenant_id", "member_id"),
        Index("ix_service_registrations_community", "tenant_id", "community_id"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    community_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    workplace: Mapped[str] = mapped_column(String(200), nullable=False)
    registered_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
