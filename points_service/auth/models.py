from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Uuid,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

ROLES = ("member", "clerk", "staff", "admin")


class LoginAccount(TenantScoped, Base):
    """Whoever signs in: a member, a merchant clerk, staff scoped to a subtree, or a tenant admin."""

    __tablename__ = "login_accounts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "merchant_id"], ["merchants.tenant_id", "merchants.id"]),
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
        CheckConstraint("role <> 'clerk' OR merchant_id IS NOT NULL", name="clerk_has_merchant"),
        CheckConstraint("role <> 'member' OR member_id IS NOT NULL", name="member_has_member"),
        CheckConstraint("role <> 'staff' OR org_unit_id IS NOT NULL", name="staff_has_scope"),
        # Unique across tenants too, through `username_logins`; here per tenant, so Citus can enforce it.
        Index("uq_login_accounts_username", "tenant_id", text("lower(username)"), unique=True),
        Index("uq_login_accounts_member", "tenant_id", "member_id", unique=True),
    )

    username: Mapped[str] = mapped_column(String(64), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    merchant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Carried in every access token: raising it ends every token issued before (a new password, a reset,
    # a switch-off), while the pair issued with the new value works at once, even in the same second.
    token_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    # After a reset or an imported login: the account's tokens may do nothing but change the password.
    password_change_required: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )


class RefreshToken(TenantScoped, Base):
    """One issued refresh token. Only its hash is stored; `family_id` ties a chain of rotations."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["login_accounts.tenant_id", "login_accounts.id"]),
        Index("uq_refresh_tokens_hash", "tenant_id", "token_hash", unique=True),
        # Refresh and logout present the token alone: found by its hash before its tenant is known.
        Index("ix_refresh_tokens_token_hash", "token_hash"),
        Index("ix_refresh_tokens_family", "tenant_id", "family_id"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class UsernameLogin(Base):
    """Which tenant's account a username signs in to: the login body names no tenant, so a username is
    unique across tenants. Global (a Citus reference table); written with every account it names."""

    __tablename__ = "username_logins"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        CheckConstraint("username = lower(username)", name="lowercase"),
        CheckConstraint(f"account_kind IN {ROLES!r}", name="account_kind"),
        Index("uq_username_logins_account", "tenant_id", "account_id", unique=True),
    )

    # Lower case: a name is taken whatever its case.
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    account_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
