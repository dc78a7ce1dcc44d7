"""Proxies (代办员): members staff appoint to act for a member, or for everyone in a unit's subtree."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped


class ProxyAppointment(TenantScoped, Base):
    __tablename__ = "proxy_appointments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "proxy_member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "appointed_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint("(member_id IS NULL) <> (org_unit_id IS NULL)", name="one_target"),
        Index("ix_proxy_appointments_proxy", "tenant_id", "proxy_member_id"),
    )

    proxy_member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    appointed_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
