"""The member's messages: notices written with what causes them, read on the member page.

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-06 13:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "points_received",
    "redemption_fulfilled",
    "redemption_expiring",
    "wish_claimed",
    "report_answered",
    "activity_cancelled",
    "shift_tomorrow",
)


def upgrade() -> None:
    op.create_table(
        "member_notices",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("once", sa.String(length=120), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"kind IN {KINDS!r}", name=op.f("ck_member_notices_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_notices_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_member_notices_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_member_notices")),
    )
    op.create_index(
        "ix_member_notices_member_created", "member_notices", ["tenant_id", "member_id", "created_at", "id"]
    )
    op.create_index(
        "ix_member_notices_unread",
        "member_notices",
        ["tenant_id", "member_id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_index(
        "uq_member_notices_once",
        "member_notices",
        ["tenant_id", "once"],
        unique=True,
        postgresql_where=sa.text("once IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_member_notices_once", table_name="member_notices")
    op.drop_index("ix_member_notices_unread", table_name="member_notices")
    op.drop_index("ix_member_notices_member_created", table_name="member_notices")
    op.drop_table("member_notices")
