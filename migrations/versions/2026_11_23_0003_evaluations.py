"""Evaluations: schemes, and each member's line of a run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:34:50.997693

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "evaluations",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("cadre_position", sa.String(length=50), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("grade_bands", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'computed', 'published')", name=op.f("ck_evaluations_status")),
        sa.CheckConstraint(
            "target IN ('all', 'party_members', 'in_service', 'cadres')", name=op.f("ck_evaluations_target")
        ),
        sa.CheckConstraint("period_start <= period_end", name=op.f("ck_evaluations_period")),
        sa.CheckConstraint("top_n >= 0", name=op.f("ck_evaluations_top_n")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_evaluations_tenant_id_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_evaluations")),
    )
    op.create_table(
        "evaluation_results",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("grade", sa.String(length=24), nullable=False),
        sa.Column("top_n", sa.Boolean(), nullable=False),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("normalised", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "grade IN ('excellent', 'qualified', 'basically_qualified', 'unqualified')",
            name=op.f("ck_evaluation_results_grade"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "evaluation_id"],
            ["evaluations.tenant_id", "evaluations.id"],
            name=op.f("fk_evaluation_results_tenant_id_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_evaluation_results_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "evaluation_id", "member_id", name=op.f("pk_evaluation_results")),
    )
    op.create_index(
        "ix_evaluation_results_rank", "evaluation_results", ["tenant_id", "evaluation_id", "position"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_evaluation_results_rank", table_name="evaluation_results")
    op.drop_table("evaluation_results")
    op.drop_table("evaluations")
