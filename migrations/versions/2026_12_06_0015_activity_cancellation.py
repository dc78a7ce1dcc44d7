"""Activities can be cancelled by staff, with the reason their members are shown.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("activities", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("activities", sa.Column("cancelled_by", sa.Uuid(), nullable=True))
    op.add_column("activities", sa.Column("cancel_reason", sa.String(length=500), nullable=True))
    op.create_foreign_key(
        op.f("fk_activities_tenant_id_cancelled_by_login_accounts"),
        "activities",
        "login_accounts",
        ["tenant_id", "cancelled_by"],
        ["tenant_id", "id"],
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_activities_tenant_id_cancelled_by_login_accounts"), "activities", type_="foreignkey")
    op.drop_column("activities", "cancel_reason")
    op.drop_column("activities", "cancelled_by")
    op.drop_column("activities", "cancelled_at")
