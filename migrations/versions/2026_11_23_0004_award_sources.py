"""Award sources: the piece of work an award pays for, unique so it is paid at most once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ledger_transactions", sa.Column("source", sa.String(length=120), nullable=True))
    op.create_index(
        "uq_ledger_transactions_source",
        "ledger_transactions",
        ["tenant_id", "source"],
        unique=True,
        postgresql_where=sa.text("source IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_ledger_transactions_source",
        table_name="ledger_transactions",
        postgresql_where=sa.text("source IS NOT NULL"),
    )
    op.drop_column("ledger_transactions", "source")
