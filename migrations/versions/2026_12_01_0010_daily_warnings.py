"""Daily early warnings: one stored run per tenant and day, its findings, and each tenant's thresholds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:14:16

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warning_runs",
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("inactive_days", sa.Integer(), nullable=False),
        sa.Column("attendance_below", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("duty_days", sa.Integer(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_warning_runs_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_warning_runs")),
        sa.UniqueConstraint("tenant_id", "run_date", name=op.f("uq_warning_runs_tenant_id_run_date")),
    )
    op.create_table(
        "warning_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("inactive_days", sa.Integer(), nullable=False),
        sa.Column("attendance_below", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("duty_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("attendance_below BETWEEN 0 AND 1", name=op.f("ck_warning_settings_attendance_below")),
        sa.CheckConstraint("duty_days BETWEEN 1 AND 366", name=op.f("ck_warning_settings_duty_days")),
        sa.CheckConstraint("inactive_days BETWEEN 1 AND 3650", name=op.f("ck_warning_settings_inactive_days")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_warning_settings_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_warning_settings")),
    )
    op.create_table(
        "warning_items",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("item", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('inactive_members', 'rewards_without_stock', 'in_service_not_registered', 'low_duty_attendance', 'posts_without_holder')",
            name=op.f("ck_warning_items_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["warning_runs.tenant_id", "warning_runs.id"],
            name=op.f("fk_warning_items_tenant_id_run_id_warning_runs"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_warning_items")),
    )
    op.create_index("ix_warning_items_run", "warning_items", ["tenant_id", "run_id", "kind", "position"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_warning_items_run", table_name="warning_items")
    op.drop_table("warning_items")
    op.drop_table("warning_settings")
    op.drop_table("warning_runs")
