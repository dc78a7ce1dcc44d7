"""Logins created for imported members carry a temporary password that must be changed at first sign-in.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "login_accounts",
        sa.Column("password_change_required", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("login_accounts", "password_change_required")
