"""Fair grades and honest feedback: how an evaluation normalises (share of best by default; the
evaluations already made keep percentile), a cap on the share of excellent grades, the positions a
cadre evaluation covers, the metrics a run left out, each result's unit and position; and who gave
each rating (resident link, member, staff) with one rating per link and per member and activity.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 12:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Evaluations made before this revision were computed by percentile: re-running one keeps that.
    op.add_column(
        "evaluations", sa.Column("normalisation", sa.String(length=16), server_default="percentile", nullable=False)
    )
    op.alter_column("evaluations", "normalisation", server_default="share_of_best")
    op.add_column("evaluations", sa.Column("max_excellent_share", sa.Numeric(precision=4, scale=3), nullable=True))
    op.add_column("evaluations", sa.Column("cadre_positions", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column(
        "evaluations",
        sa.Column(
            "excluded_metrics",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_evaluations_normalisation"), "evaluations", "normalisation IN ('share_of_best', 'percentile')"
    )
    op.create_check_constraint(
        op.f("ck_evaluations_max_excellent_share"),
        "evaluations",
        "max_excellent_share > 0 AND max_excellent_share <= 1",
    )
    op.add_column("evaluation_results", sa.Column("org_unit_id", sa.Uuid(), nullable=True))
    op.add_column("evaluation_results", sa.Column("cadre_position", sa.String(length=50), nullable=True))

    op.add_column("feedback", sa.Column("giver_kind", sa.String(length=16), server_default="resident", nullable=False))
    op.add_column("feedback", sa.Column("link_id", sa.Uuid(), nullable=True))
    # Ratings given before: the signed-in ones were all staff (members could not rate), the rest residents.
    op.execute("UPDATE feedback SET giver_kind = 'staff' WHERE given_by IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_feedback_giver_kind"), "feedback", "giver_kind IN ('resident', 'member', 'staff')"
    )
    op.create_index(
        "uq_feedback_link",
        "feedback",
        ["tenant_id", "link_id"],
        unique=True,
        postgresql_where=sa.text("link_id IS NOT NULL"),
    )
    op.create_index(
        "uq_feedback_member_giver",
        "feedback",
        ["tenant_id", "subject_kind", "subject_id", "member_id", "given_by"],
        unique=True,
        postgresql_where=sa.text("giver_kind = 'member'"),
    )


def downgrade() -> None:
    op.drop_index("uq_feedback_member_giver", table_name="feedback", postgresql_where=sa.text("giver_kind = 'member'"))
    op.drop_index("uq_feedback_link", table_name="feedback", postgresql_where=sa.text("link_id IS NOT NULL"))
    op.drop_constraint(op.f("ck_feedback_giver_kind"), "feedback", type_="check")
    op.drop_column("feedback", "link_id")
    op.drop_column("feedback", "giver_kind")
    op.drop_column("evaluation_results", "cadre_position")
    op.drop_column("evaluation_results", "org_unit_id")
    op.drop_constraint(op.f("ck_evaluations_max_excellent_share"), "evaluations", type_="check")
    op.drop_constraint(op.f("ck_evaluations_normalisation"), "evaluations", type_="check")
    op.drop_column("evaluations", "excluded_metrics")
    op.drop_column("evaluations", "cadre_positions")
    op.drop_column("evaluations", "max_excellent_share")
    op.drop_column("evaluations", "normalisation")
