"""What members see of the leaderboards, chosen per tenant.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 00:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("member_ranking", sa.String(length=10), server_default="public", nullable=False))
    op.create_check_constraint(
        op.f("ck_tenants_member_ranking"), "tenants", "member_ranking IN ('public', 'own_rank', 'hidden')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_tenants_member_ranking"), "tenants", type_="check")
    op.drop_column("tenants", "member_ranking")
