"""Activities, claims, proxies (代办) and feedback.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("signed_up", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("penalty_rule_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_activities_capacity")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_activities_window")),
        sa.CheckConstraint(
            "radius_m IS NULL OR (latitude IS NOT NULL AND longitude IS NOT NULL)", name=op.f("ck_activities_place")
        ),
        sa.CheckConstraint("signed_up >= 0 AND signed_up <= capacity", name=op.f("ck_activities_not_oversold")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "created_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_activities_tenant_id_created_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_activities_tenant_id_org_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "penalty_rule_id"],
            ["rules.tenant_id", "rules.id"],
            name=op.f("fk_activities_tenant_id_penalty_rule_id_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["rules.tenant_id", "rules.id"],
            name=op.f("fk_activities_tenant_id_rule_id_rules"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_activities")),
    )
    op.create_index(
        "ix_activities_unconfirmed",
        "activities",
        ["tenant_id", "ends_at"],
        unique=False,
        postgresql_where="confirmed_at IS NULL",
    )
    op.create_index("ix_activities_unit_start", "activities", ["tenant_id", "org_unit_id", "starts_at"], unique=False)
    op.create_table(
        "claims",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filed_by", sa.Uuid(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status <> 'rejected' OR reason IS NOT NULL", name=op.f("ck_claims_rejection_reason")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name=op.f("ck_claims_status")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_claims_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "decided_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_claims_tenant_id_decided_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "filed_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_claims_tenant_id_filed_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_claims_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"], ["rules.tenant_id", "rules.id"], name=op.f("fk_claims_tenant_id_rule_id_rules")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_claims")),
    )
    op.create_index("ix_claims_member", "claims", ["tenant_id", "member_id", "created_at"], unique=False)
    op.create_index(
        "ix_claims_pending", "claims", ["tenant_id", "created_at"], unique=False, postgresql_where="status = 'pending'"
    )
    op.create_table(
        "feedback",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("given_by", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("subject_kind IN ('activity', 'shift', 'wish')", name=op.f("ck_feedback_subject_kind")),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_feedback_rating")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "given_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_feedback_tenant_id_given_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_feedback_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_member", "feedback", ["tenant_id", "member_id", "created_at"], unique=False)
    op.create_table(
        "proxy_appointments",
        sa.Column("proxy_member_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("org_unit_id", sa.Uuid(), nullable=True),
        sa.Column("appointed_by", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(member_id IS NULL) <> (org_unit_id IS NULL)", name=op.f("ck_proxy_appointments_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "appointed_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_proxy_appointments_tenant_id_appointed_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_proxy_appointments_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_proxy_appointments_tenant_id_org_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "proxy_member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_proxy_appointments_tenant_id_proxy_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_proxy_appointments")),
    )
    op.create_index("ix_proxy_appointments_proxy", "proxy_appointments", ["tenant_id", "proxy_member_id"], unique=False)
    op.create_table(
        "activity_signups",
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acted_by", sa.Uuid(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.Uuid(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("hours", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('signed_up', 'cancelled')", name=op.f("ck_activity_signups_status")),
        sa.CheckConstraint("hours IS NULL OR hours >= 0", name=op.f("ck_activity_signups_hours")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "acted_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_activity_signups_tenant_id_acted_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "activity_id"],
            ["activities.tenant_id", "activities.id"],
            name=op.f("fk_activity_signups_tenant_id_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "checked_in_by"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_activity_signups_tenant_id_checked_in_by_login_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_activity_signups_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_activity_signups")),
        sa.UniqueConstraint(
            "tenant_id", "activity_id", "member_id", name=op.f("uq_activity_signups_tenant_id_activity_id_member_id")
        ),
    )
    op.create_index(
        "ix_activity_signups_member", "activity_signups", ["tenant_id", "member_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_activity_signups_member", table_name="activity_signups")
    op.drop_table("activity_signups")
    op.drop_index("ix_proxy_appointments_proxy", table_name="proxy_appointments")
    op.drop_table("proxy_appointments")
    op.drop_index("ix_feedback_member", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_claims_pending", table_name="claims", postgresql_where="status = 'pending'")
    op.drop_index("ix_claims_member", table_name="claims")
    op.drop_table("claims")
    op.drop_index("ix_activities_unit_start", table_name="activities")
    op.drop_index("ix_activities_unconfirmed", table_name="activities", postgresql_where="confirmed_at IS NULL")
    op.drop_table("activities")
