"""A merchant's points on several ledger accounts (stripes): concurrent batches of fulfilments at one
shop each credit a stripe of their own instead of queuing on one row (docs/ledger.md, issue 19).

Every merchant opened before gets the same number of stripes as a new one; its points stay on the
account it had, now stripe 0, so balances, entries and chains are untouched.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 19:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# points_service.ledger.models.MERCHANT_STRIPES when this revision was written.
STRIPES = 8


def upgrade() -> None:
    op.add_column(
        "ledger_accounts", sa.Column("stripe", sa.SmallInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_ledger_accounts_stripe"), "ledger_accounts", "stripe >= 0 AND (kind = 'merchant' OR stripe = 0)"
    )
    op.drop_index(
        "uq_ledger_accounts_merchant", table_name="ledger_accounts", postgresql_where=sa.text("merchant_id IS NOT NULL")
    )
    op.create_index(
        "uq_ledger_accounts_merchant",
        "ledger_accounts",
        ["tenant_id", "merchant_id", "stripe"],
        unique=True,
        postgresql_where=sa.text("merchant_id IS NOT NULL"),
    )
    op.execute(
        sa.text(
            "INSERT INTO ledger_accounts (tenant_id, id, kind, merchant_id, stripe, balance, entry_count, last_hash) "
            "SELECT a.tenant_id, gen_random_uuid(), 'merchant', a.merchant_id, s.stripe, 0, 0, '' "
            "  FROM ledger_accounts a, generate_series(1, :last) AS s(stripe) "
            " WHERE a.kind = 'merchant'"
        ).bindparams(last=STRIPES - 1)
    )


def downgrade() -> None:
    # Points on a stripe other than 0 cannot be folded back without rewriting entries, which the
    # ledger refuses (append-only): such a database cannot go back.
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM ledger_accounts WHERE stripe <> 0 AND entry_count <> 0) THEN
                RAISE EXCEPTION 'merchant stripes other than 0 hold entries: downgrade refused';
            END IF;
        END $$
        """
    )
    op.execute("DELETE FROM ledger_accounts WHERE stripe <> 0")
    op.drop_index(
        "uq_ledger_accounts_merchant", table_name="ledger_accounts", postgresql_where=sa.text("merchant_id IS NOT NULL")
    )
    op.create_index(
        "uq_ledger_accounts_merchant",
        "ledger_accounts",
        ["tenant_id", "merchant_id"],
        unique=True,
        postgresql_where=sa.text("merchant_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("ck_ledger_accounts_stripe"), "ledger_accounts", type_="check")
    op.drop_column("ledger_accounts", "stripe")
