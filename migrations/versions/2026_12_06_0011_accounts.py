"""Accounts: members switched off, a per-login generation that ends older sessions, a forced password change.

Revision ID: 0011
Revises: 0015
Create Date: 2026-12-06 12:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("members", sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column(
        "login_accounts", sa.Column("token_generation", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column(
        "login_accounts",
        sa.Column("password_change_required", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("login_accounts", "password_change_required")
    op.drop_column("login_accounts", "token_generation")
    op.drop_column("members", "active")
