"""Per-period reward limits: a member may redeem a reward N times per month, quarter or year.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 23:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rewards", sa.Column("limit_period", sa.String(length=10), nullable=True))
    op.create_check_constraint(
        op.f("ck_rewards_limit_period"),
        "rewards",
        "limit_period IS NULL OR limit_period IN ('month', 'quarter', 'year')",
    )
    op.create_check_constraint(
        op.f("ck_rewards_limit_period_has_limit"), "rewards", "limit_period IS NULL OR per_member_limit IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_rewards_limit_period_has_limit"), "rewards", type_="check")
    op.drop_constraint(op.f("ck_rewards_limit_period"), "rewards", type_="check")
    op.drop_column("rewards", "limit_period")
