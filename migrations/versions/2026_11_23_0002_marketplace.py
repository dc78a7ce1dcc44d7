"""Marketplace: merchants, rewards, redemptions, and merchant ownership of ledger accounts and clerk logins.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:08:41.323878

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "merchants",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("honours", postgresql.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'active', 'suspended')", name=op.f("ck_merchants_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_merchants_tenant_id_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_merchants")),
    )
    op.create_index("ix_merchants_org_unit", "merchants", ["tenant_id", "org_unit_id"], unique=False)
    op.create_table(
        "rewards",
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("points_price", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.BigInteger(), nullable=True),
        sa.Column("per_member_limit", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redemption_window_hours", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_rewards_status")),
        sa.CheckConstraint(
            "per_member_limit IS NULL OR per_member_limit >= 1", name=op.f("ck_rewards_per_member_limit")
        ),
        sa.CheckConstraint("points_price > 0", name=op.f("ck_rewards_price_positive")),
        sa.CheckConstraint("redemption_window_hours BETWEEN 1 AND 8760", name=op.f("ck_rewards_window")),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name=op.f("ck_rewards_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "merchant_id"],
            ["merchants.tenant_id", "merchants.id"],
            name=op.f("fk_rewards_tenant_id_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rewards")),
    )
    op.create_index("ix_rewards_merchant", "rewards", ["tenant_id", "merchant_id"], unique=False)
    op.create_table(
        "redemptions",
        sa.Column("reward_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_transaction_id", sa.Uuid(), nullable=False),
        sa.Column("settle_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'pending') = (settle_transaction_id IS NULL)", name=op.f("ck_redemptions_settled_unless_pending")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'fulfilled', 'cancelled', 'expired')", name=op.f("ck_redemptions_status")
        ),
        sa.CheckConstraint("points > 0", name=op.f("ck_redemptions_points_positive")),
        sa.CheckConstraint("quantity BETWEEN 1 AND 100", name=op.f("ck_redemptions_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "hold_transaction_id"],
            ["ledger_transactions.tenant_id", "ledger_transactions.id"],
            name=op.f("fk_redemptions_tenant_id_hold_transaction_id_ledger_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_redemptions_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "merchant_id"],
            ["merchants.tenant_id", "merchants.id"],
            name=op.f("fk_redemptions_tenant_id_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reward_id"],
            ["rewards.tenant_id", "rewards.id"],
            name=op.f("fk_redemptions_tenant_id_reward_id_rewards"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "settle_transaction_id"],
            ["ledger_transactions.tenant_id", "ledger_transactions.id"],
            name=op.f("fk_redemptions_tenant_id_settle_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_redemptions")),
    )
    op.create_index(
        "ix_redemptions_due",
        "redemptions",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_redemptions_member", "redemptions", ["tenant_id", "member_id", "created_at"], unique=False)
    op.create_index(
        "ix_redemptions_member_reward", "redemptions", ["tenant_id", "member_id", "reward_id"], unique=False
    )
    op.create_index(
        "ix_redemptions_merchant_settled", "redemptions", ["tenant_id", "merchant_id", "settled_at"], unique=False
    )
    op.create_index("uq_redemptions_code", "redemptions", ["tenant_id", "code"], unique=True)
    op.create_index(
        "uq_ledger_accounts_merchant",
        "ledger_accounts",
        ["tenant_id", "merchant_id"],
        unique=True,
        postgresql_where=sa.text("merchant_id IS NOT NULL"),
    )
    op.create_foreign_key(
        op.f("fk_ledger_accounts_tenant_id_merchant_id_merchants"),
        "ledger_accounts",
        "merchants",
        ["tenant_id", "merchant_id"],
        ["tenant_id", "id"],
    )
    op.create_foreign_key(
        op.f("fk_login_accounts_tenant_id_merchant_id_merchants"),
        "login_accounts",
        "merchants",
        ["tenant_id", "merchant_id"],
        ["tenant_id", "id"],
    )
    op.create_check_constraint(
        op.f("ck_ledger_accounts_merchant_owner"), "ledger_accounts", "(kind = 'merchant') = (merchant_id IS NOT NULL)"
    )
    op.create_check_constraint(
        op.f("ck_login_accounts_clerk_has_merchant"), "login_accounts", "role <> 'clerk' OR merchant_id IS NOT NULL"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint(op.f("ck_login_accounts_clerk_has_merchant"), "login_accounts", type_="check")
    op.drop_constraint(op.f("ck_ledger_accounts_merchant_owner"), "ledger_accounts", type_="check")
    op.drop_constraint(op.f("fk_login_accounts_tenant_id_merchant_id_merchants"), "login_accounts", type_="foreignkey")
    op.drop_constraint(
        op.f("fk_ledger_accounts_tenant_id_merchant_id_merchants"), "ledger_accounts", type_="foreignkey"
    )
    op.drop_index(
        "uq_ledger_accounts_merchant", table_name="ledger_accounts", postgresql_where=sa.text("merchant_id IS NOT NULL")
    )
    op.drop_index("uq_redemptions_code", table_name="redemptions")
    op.drop_index("ix_redemptions_merchant_settled", table_name="redemptions")
    op.drop_index("ix_redemptions_member_reward", table_name="redemptions")
    op.drop_index("ix_redemptions_member", table_name="redemptions")
    op.drop_index("ix_redemptions_due", table_name="redemptions", postgresql_where=sa.text("status = 'pending'"))
    op.drop_table("redemptions")
    op.drop_index("ix_rewards_merchant", table_name="rewards")
    op.drop_table("rewards")
    op.drop_index("ix_merchants_org_unit", table_name="merchants")
    op.drop_table("merchants")
