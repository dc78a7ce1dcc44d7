"""Posts, post claims and shifts; micro-wishes; problem reports and their events; in-service registration.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("duty", sa.Text(), nullable=False),
        sa.Column("schedule", sa.String(length=300), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "created_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_posts_tenant_id_created_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_posts_tenant_id_org_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"], name=op.f("fk_posts_tenant_id_rule_id_rules")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_posts")),
        sa.UniqueConstraint("tenant_id", "org_unit_id", "name", name=op.f("uq_posts_tenant_id_org_unit_id_name")),
    )
    op.create_table(
        "problem_reports",
        sa.Column("reported_unit_id", sa.Uuid(), nullable=False),
        sa.Column("handling_unit_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by_member_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "category IN ('hazard', 'dispute', 'facility', 'sanitation', 'household_visit', 'other')",
            name=op.f("ck_problem_reports_category"),
        ),
        sa.CheckConstraint(
            "status <> 'resolved' OR resolution IS NOT NULL", name=op.f("ck_problem_reports_resolution")
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'resolved', 'rejected')", name=op.f("ck_problem_reports_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "filed_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_problem_reports_tenant_id_filed_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "handling_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_problem_reports_tenant_id_handling_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_problem_reports_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reported_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_problem_reports_tenant_id_reported_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_problem_reports")),
    )
    op.create_index(
        "ix_problem_reports_open",
        "problem_reports",
        ["tenant_id", "created_at"],
        unique=False,
        postgresql_where="status = 'submitted'",
    )
    op.create_index(
        "ix_problem_reports_reported", "problem_reports", ["tenant_id", "reported_unit_id", "created_at"], unique=False
    )
    op.create_table(
        "service_registrations",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("workplace", sa.String(length=200), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "community_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_service_registrations_tenant_id_community_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "created_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_service_registrations_tenant_id_created_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_service_registrations_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_registrations")),
        sa.UniqueConstraint("tenant_id", "member_id", name=op.f("uq_service_registrations_tenant_id_member_id")),
    )
    op.create_index(
        "ix_service_registrations_community", "service_registrations", ["tenant_id", "community_id"], unique=False
    )
    op.create_table(
        "wishes",
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("resident_name", sa.String(length=50), nullable=False),
        sa.Column("resident_contact", sa.String(length=50), nullable=True),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("posted_by", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilment_note", sa.Text(), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.Uuid(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status IN ('claimed', 'fulfilled', 'verified')) = (claimed_by IS NOT NULL)",
            name=op.f("ck_wishes_claimed_by"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'claimed', 'fulfilled', 'verified', 'cancelled')", name=op.f("ck_wishes_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "claimed_by"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_wishes_tenant_id_claimed_by_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_wishes_tenant_id_org_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "posted_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_wishes_tenant_id_posted_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"], name=op.f("fk_wishes_tenant_id_rule_id_rules")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "verified_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_wishes_tenant_id_verified_by_login_accounts"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_wishes")),
    )
    op.create_index("ix_wishes_claimed_by", "wishes", ["tenant_id", "claimed_by", "verified_at"], unique=False)
    op.create_index("ix_wishes_unit_status", "wishes", ["tenant_id", "org_unit_id", "status"], unique=False)
    op.create_table(
        "post_claims",
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acted_by", sa.Uuid(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name=op.f("ck_post_claims_rejection_reason")),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'released')", name=op.f("ck_post_claims_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "acted_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_post_claims_tenant_id_acted_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "decided_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_post_claims_tenant_id_decided_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_post_claims_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "post_id"],
            ["posts.tenant_id", "posts.id"],
            name=op.f("fk_post_claims_tenant_id_post_id_posts"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_post_claims")),
    )
    op.create_index(
        "ix_post_claims_pending",
        "post_claims",
        ["tenant_id", "created_at"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_index(
        "uq_post_claims_live",
        "post_claims",
        ["tenant_id", "post_id", "member_id"],
        unique=True,
        postgresql_where="status IN ('pending', 'approved')",
    )
    op.create_table(
        "report_events",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "action IN ('filed', 'accepted', 'escalated', 'resolved', 'rejected')", name=op.f("ck_report_events_action")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "actor_id"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_report_events_tenant_id_actor_id_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "report_id"],
            ["problem_reports.tenant_id", "problem_reports.id"],
            name=op.f("fk_report_events_tenant_id_report_id_problem_reports"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_report_events")),
    )
    op.create_index("ix_report_events_report", "report_events", ["tenant_id", "report_id", "created_at"], unique=False)
    op.create_table(
        "shifts",
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.Uuid(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_out_by", sa.Uuid(), nullable=True),
        sa.Column("hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("unpaid_reason", sa.String(length=200), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL", name=op.f("ck_shifts_in_before_out")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_shifts_window")),
        sa.CheckConstraint("hours IS NULL OR hours >= 0", name=op.f("ck_shifts_hours")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "checked_in_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_shifts_tenant_id_checked_in_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "checked_out_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_shifts_tenant_id_checked_out_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "created_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_shifts_tenant_id_created_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_shifts_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "post_id"], ["posts.tenant_id", "posts.id"], name=op.f("fk_shifts_tenant_id_post_id_posts")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_shifts")),
        sa.UniqueConstraint(
            "tenant_id",
            "post_id",
            "member_id",
            "starts_at",
            name=op.f("uq_shifts_tenant_id_post_id_member_id_starts_at"),
        ),
    )
    op.create_index("ix_shifts_member_start", "shifts", ["tenant_id", "member_id", "starts_at"], unique=False)
    op.create_index("ix_shifts_post_start", "shifts", ["tenant_id", "post_id", "starts_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shifts_post_start", table_name="shifts")
    op.drop_index("ix_shifts_member_start", table_name="shifts")
    op.drop_table("shifts")
    op.drop_index("ix_report_events_report", table_name="report_events")
    op.drop_table("report_events")
    op.drop_index("uq_post_claims_live", table_name="post_claims", postgresql_where="status IN ('pending', 'approved')")
    op.drop_index("ix_post_claims_pending", table_name="post_claims", postgresql_where="status = 'pending'")
    op.drop_table("post_claims")
    op.drop_index("ix_wishes_unit_status", table_name="wishes")
    op.drop_index("ix_wishes_claimed_by", table_name="wishes")
    op.drop_table("wishes")
    op.drop_index("ix_service_registrations_community", table_name="service_registrations")
    op.drop_table("service_registrations")
    op.drop_index("ix_problem_reports_reported", table_name="problem_reports")
    op.drop_index("ix_problem_reports_open", table_name="problem_reports", postgresql_where="status = 'submitted'")
    op.drop_table("problem_reports")
    op.drop_table("posts")
