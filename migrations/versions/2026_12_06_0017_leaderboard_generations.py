"""Leaderboard generations: the newest build of each tenant's boards, checked against Redis.

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-06 13:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leaderboard_generations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_leaderboard_generations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_leaderboard_generations")),
    )


def downgrade() -> None:
    op.drop_table("leaderboard_generations")
