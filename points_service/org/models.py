from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKeyConstraint, Index, String, UniqueConstraint, Uuid, true
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

ORG_UNIT_KINDS = ("district", "street", "community", "area", "branch", "group", "household", "grid")
PARTY_STATUSES = ("none", "in_service", "retired", "mobile")


class OrgUnit(TenantScoped, Base):
    """A node of the org tree.

    `path` is the materialised path of ids from the root ("/<id>/<id>/"), so a whole subtree is one
    index range scan (`path LIKE '<prefix>%'`) and "is X inside Y" is a string prefix test.
    """

    __tablename__ = "org_units"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["org_units.tenant_id", "org_units.id"]),
        CheckConstraint(f"kind IN {ORG_UNIT_KINDS!r}", name="kind"),
        Index("ix_org_units_path", "tenant_id", "path", postgresql_ops={"path": "text_pattern_ops"}),
        Index("ix_org_units_parent", "tenant_id", "parent_id"),
    )

    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    path: Mapped[str] = mapped_column(String(2000), nullable=False)


class Member(TenantScoped, Base):
    """A person who earns points."""

    __tablename__ = "members"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        UniqueConstraint("tenant_id", "phone"),
        CheckConstraint(f"party_status IN {PARTY_STATUSES!r}", name="party_status"),
        Index("ix_members_org_unit", "tenant_id", "org_unit_id"),
        Index(
            "ix_members_pinyin",
            "tenant_id",
            "pinyin_initials",
            postgresql_ops={"pinyin_initials": "text_pattern_ops"},
        ),
    )

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    phone: Mapped[str] = mapped_column(String(32), nullable=False)
    org_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    party_status: Mapped[str] = mapped_column(String(16), nullable=False, default="none")
    cadre_position: Mapped[str | None] = mapped_column(String(50), nullable=True)
    pinyin_initials: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # Switched off: cannot sign in, earns nothing new, leaves leaderboards; points and history stay.
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())


class ServiceRegistration(TenantScoped, Base):
    """An in-service Party member's registration with their residential community (双报到): a second
    place of the member in the org tree, where their activities and hours also count."""

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
