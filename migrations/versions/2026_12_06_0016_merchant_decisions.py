"""Shop decisions: an application may be refused, and a refusal or a suspension keeps its reason.

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-06 13:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("merchants", sa.Column("status_note", sa.Text(), nullable=True))
    op.drop_constraint(op.f("ck_merchants_status"), "merchants", type_="check")
    op.create_check_constraint(
        op.f("ck_merchants_status"), "merchants", "status IN ('pending', 'active', 'suspended', 'refused')"
    )


def downgrade() -> None:
    op.execute("UPDATE merchants SET status = 'suspended' WHERE status = 'refused'")
    op.drop_constraint(op.f("ck_merchants_status"), "merchants", type_="check")
    op.create_check_constraint(op.f("ck_merchants_status"), "merchants", "status IN ('pending', 'active', 'suspended')")
    op.drop_column("merchants", "status_note")
