"""Stock takes: each stock a redemption batch takes on its own transaction is recorded with it, and
deleted by the batch's commit; what outlives its batch is given back by the sweep
(merchants/redemptions/stock.py).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 19:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stock_takes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reward_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_takes_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reward_id"],
            ["rewards.tenant_id", "rewards.id"],
            name=op.f("fk_stock_takes_tenant_id_reward_id_rewards"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "reward_id", name=op.f("pk_stock_takes")),
    )


def downgrade() -> None:
    op.drop_table("stock_takes")
