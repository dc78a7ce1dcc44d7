"""Ready for Citus: usernames found through a global lookup table; every tenant table's unique keys
include tenant_id (tests/test_citus_readiness.py).

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06 16:15:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("member", "clerk", "staff", "admin")


def upgrade() -> None:
    op.create_table(
        "username_logins",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("account_kind", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("username = lower(username)", name=op.f("ck_username_logins_lowercase")),
        sa.CheckConstraint(f"account_kind IN {ROLES!r}", name=op.f("ck_username_logins_account_kind")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_username_logins_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_username_logins")),
    )
    op.create_index("uq_username_logins_account", "username_logins", ["tenant_id", "account_id"], unique=True)
    # Every existing login, while the old index still guarantees one account per name.
    op.execute(
        "INSERT INTO username_logins (username, tenant_id, account_kind, account_id) "
        "SELECT lower(username), tenant_id, role, id FROM login_accounts"
    )
    op.drop_index("uq_login_accounts_username", table_name="login_accounts")
    op.create_index(
        "uq_login_accounts_username", "login_accounts", ["tenant_id", sa.literal_column("lower(username)")], unique=True
    )
    op.drop_index("uq_refresh_tokens_hash", table_name="refresh_tokens")
    op.create_index("uq_refresh_tokens_hash", "refresh_tokens", ["tenant_id", "token_hash"], unique=True)
    op.create_index("ix_refresh_tokens_token_hash", "refresh_tokens", ["token_hash"])


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_token_hash", table_name="refresh_tokens")
    op.drop_index("uq_refresh_tokens_hash", table_name="refresh_tokens")
    op.create_index("uq_refresh_tokens_hash", "refresh_tokens", ["token_hash"], unique=True)
    op.drop_index("uq_login_accounts_username", table_name="login_accounts")
    op.create_index("uq_login_accounts_username", "login_accounts", [sa.literal_column("lower(username)")], unique=True)
    op.drop_index("uq_username_logins_account", table_name="username_logins")
    op.drop_table("username_logins")
