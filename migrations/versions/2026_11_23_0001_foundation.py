"""Foundation: tenants, org tree, members, logins, rules, the ledger and its database-enforced rules.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:29:09.629688

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ledger's rules (docs/ledger.md), enforced by the database itself so no code path (nor a hand-typed psql
# session) can break them: entries and transactions are append-only, and every transaction's
# entries number two or more and sum to zero when its database transaction commits.
LEDGER_RULES_SQL = [
    """
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        txn uuid;
        entry_count bigint;
        entry_sum numeric;
    BEGIN
        IF TG_TABLE_NAME = 'ledger_entries' THEN
            txn := NEW.transaction_id;
        ELSE
            txn := NEW.id;
        END IF;
        SELECT count(*), coalesce(sum(amount), 0) INTO entry_count, entry_sum
          FROM ledger_entries WHERE tenant_id = NEW.tenant_id AND transaction_id = txn;
        IF entry_count < 2 OR entry_sum <> 0 THEN
            RAISE EXCEPTION 'ledger transaction % is unbalanced: % entries summing to %', txn, entry_count, entry_sum
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    *[
        f"""
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
        """
        for table in ("ledger_entries", "ledger_transactions")
    ],
    *[
        f"""
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
        """
        for table in ("ledger_entries", "ledger_transactions")
    ],
    *[
        f"""
        CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table}
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()
        """
        for table in ("ledger_entries", "ledger_transactions")
    ],
]

DROP_LEDGER_RULES_SQL = [
    *[
        f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}"
        for table in ("ledger_entries", "ledger_transactions")
        for suffix in ("append_only", "no_truncate", "balanced")
    ],
    "DROP FUNCTION IF EXISTS ledger_check_balanced()",
    "DROP FUNCTION IF EXISTS ledger_refuse_change()",
]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("caller_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_idempotency_records_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "caller_id", "endpoint", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_index("ix_idempotency_records_created", "idempotency_records", ["created_at"], unique=False)
    op.create_table(
        "ledger_daily_seals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("transaction_count", sa.BigInteger(), nullable=False),
        sa.Column("seal", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_ledger_daily_seals_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "day", name=op.f("pk_ledger_daily_seals")),
    )
    op.create_table(
        "org_units",
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('district', 'street', 'community', 'area', 'branch', 'group', 'household', 'grid')",
            name=op.f("ck_org_units_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_org_units_tenant_id_parent_id_org_units"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_org_units_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_org_units")),
    )
    op.create_index("ix_org_units_parent", "org_units", ["tenant_id", "parent_id"], unique=False)
    op.create_index(
        "ix_org_units_path",
        "org_units",
        ["tenant_id", "path"],
        unique=False,
        postgresql_ops={"path": "text_pattern_ops"},
    )
    op.create_table(
        "rules",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("daily_cap", sa.BigInteger(), nullable=True),
        sa.Column("monthly_cap", sa.BigInteger(), nullable=True),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(category = 'penalty') = (points < 0) AND points <> 0", name=op.f("ck_rules_points_sign")),
        sa.CheckConstraint(
            "category IN ('volunteer', 'duty', 'wish', 'report', 'meeting', 'feedback', 'penalty', 'other')",
            name=op.f("ck_rules_category"),
        ),
        sa.CheckConstraint("unit IN ('each', 'hour')", name=op.f("ck_rules_unit")),
        sa.CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name=op.f("ck_rules_daily_cap")),
        sa.CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name=op.f("ck_rules_monthly_cap")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_rules_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rules")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_rules_tenant_id_code")),
    )
    op.create_table(
        "members",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("org_unit_id", sa.Uuid(), nullable=False),
        sa.Column("party_status", sa.String(length=16), nullable=False),
        sa.Column("cadre_position", sa.String(length=50), nullable=True),
        sa.Column("pinyin_initials", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "party_status IN ('none', 'in_service', 'retired', 'mobile')", name=op.f("ck_members_party_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_members_tenant_id_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_members")),
        sa.UniqueConstraint("tenant_id", "phone", name=op.f("uq_members_tenant_id_phone")),
    )
    op.create_index("ix_members_org_unit", "members", ["tenant_id", "org_unit_id"], unique=False)
    op.create_index(
        "ix_members_pinyin",
        "members",
        ["tenant_id", "pinyin_initials"],
        unique=False,
        postgresql_ops={"pinyin_initials": "text_pattern_ops"},
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("entry_count", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind LIKE 'member_%') = (member_id IS NOT NULL)", name=op.f("ck_ledger_accounts_member_owner")
        ),
        sa.CheckConstraint(
            "kind IN ('member_available', 'member_held', 'merchant', 'issuance')", name=op.f("ck_ledger_accounts_kind")
        ),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_ledger_accounts_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_ledger_accounts_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_ledger_accounts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ledger_accounts")),
    )
    op.create_index(
        "uq_ledger_accounts_member_kind",
        "ledger_accounts",
        ["tenant_id", "member_id", "kind"],
        unique=True,
        postgresql_where=sa.text("member_id IS NOT NULL"),
    )
    op.create_index(
        "uq_ledger_accounts_system_kind",
        "ledger_accounts",
        ["tenant_id", "kind"],
        unique=True,
        postgresql_where=sa.text("kind IN ('issuance')"),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("rule_code", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("actor_account_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("earned_delta", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)", name=op.f("ck_ledger_transactions_reversal_target")
        ),
        sa.CheckConstraint(
            "kind IN ('award', 'penalty', 'adjustment', 'reversal', 'redemption_hold', 'redemption_release', 'redemption_fulfil', 'expiry')",
            name=op.f("ck_ledger_transactions_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_ledger_transactions_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reverses_id"],
            ["ledger_transactions.tenant_id", "ledger_transactions.id"],
            name=op.f("fk_ledger_transactions_tenant_id_reverses_id_ledger_transactions"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_ledger_transactions_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ledger_transactions")),
    )
    op.create_index(
        "ix_ledger_transactions_local_date", "ledger_transactions", ["tenant_id", "local_date"], unique=False
    )
    op.create_index(
        "ix_ledger_transactions_member_history",
        "ledger_transactions",
        ["tenant_id", "member_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_ledger_transactions_reverses",
        "ledger_transactions",
        ["tenant_id", "reverses_id"],
        unique=True,
        postgresql_where=sa.text("reverses_id IS NOT NULL"),
    )
    op.create_table(
        "login_accounts",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("org_unit_id", sa.Uuid(), nullable=True),
        sa.Column("merchant_id", sa.Uuid(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "role <> 'member' OR member_id IS NOT NULL", name=op.f("ck_login_accounts_member_has_member")
        ),
        sa.CheckConstraint(
            "role <> 'staff' OR org_unit_id IS NOT NULL", name=op.f("ck_login_accounts_staff_has_scope")
        ),
        sa.CheckConstraint("role IN ('member', 'clerk', 'staff', 'admin')", name=op.f("ck_login_accounts_role")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_login_accounts_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_login_accounts_tenant_id_org_unit_id_org_units"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_login_accounts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_login_accounts")),
    )
    op.create_index("uq_login_accounts_member", "login_accounts", ["tenant_id", "member_id"], unique=True)
    op.create_index("uq_login_accounts_username", "login_accounts", [sa.literal_column("lower(username)")], unique=True)
    op.create_table(
        "member_earned_monthly",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_earned_monthly_tenant_id_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", "month", name=op.f("pk_member_earned_monthly")),
    )
    op.create_index("ix_member_earned_monthly_month", "member_earned_monthly", ["tenant_id", "month"], unique=False)
    op.create_table(
        "member_rule_daily",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_rule_daily_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["rules.tenant_id", "rules.id"],
            name=op.f("fk_member_rule_daily_tenant_id_rule_id_rules"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", "rule_id", "day", name=op.f("pk_member_rule_daily")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["ledger_accounts.tenant_id", "ledger_accounts.id"],
            name=op.f("fk_ledger_entries_tenant_id_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "transaction_id"],
            ["ledger_transactions.tenant_id", "ledger_transactions.id"],
            name=op.f("fk_ledger_entries_tenant_id_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ledger_entries")),
    )
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["tenant_id", "account_id"], unique=False)
    op.create_index("ix_ledger_entries_transaction", "ledger_entries", ["tenant_id", "transaction_id"], unique=False)
    op.create_index(
        "uq_ledger_entries_account_seq",
        "ledger_entries",
        ["tenant_id", "account_id", "seq"],
        unique=True,
        postgresql_where=sa.text("seq IS NOT NULL"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["login_accounts.tenant_id", "login_accounts.id"],
            name=op.f("fk_refresh_tokens_tenant_id_account_id_login_accounts"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_refresh_tokens")),
    )
    op.create_index("ix_refresh_tokens_family", "refresh_tokens", ["tenant_id", "family_id"], unique=False)
    op.create_index("uq_refresh_tokens_hash", "refresh_tokens", ["token_hash"], unique=True)
    for statement in LEDGER_RULES_SQL:
        op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    for statement in DROP_LEDGER_RULES_SQL:
        op.execute(statement)
    op.drop_index("uq_refresh_tokens_hash", table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_family", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(
        "uq_ledger_entries_account_seq", table_name="ledger_entries", postgresql_where=sa.text("seq IS NOT NULL")
    )
    op.drop_index("ix_ledger_entries_transaction", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_account", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("member_rule_daily")
    op.drop_index("ix_member_earned_monthly_month", table_name="member_earned_monthly")
    op.drop_table("member_earned_monthly")
    op.drop_index("uq_login_accounts_username", table_name="login_accounts")
    op.drop_index("uq_login_accounts_member", table_name="login_accounts")
    op.drop_table("login_accounts")
    op.drop_index(
        "uq_ledger_transactions_reverses",
        table_name="ledger_transactions",
        postgresql_where=sa.text("reverses_id IS NOT NULL"),
    )
    op.drop_index("ix_ledger_transactions_member_history", table_name="ledger_transactions")
    op.drop_index("ix_ledger_transactions_local_date", table_name="ledger_transactions")
    op.drop_table("ledger_transactions")
    op.drop_index(
        "uq_ledger_accounts_system_kind", table_name="ledger_accounts", postgresql_where=sa.text("kind IN ('issuance')")
    )
    op.drop_index(
        "uq_ledger_accounts_member_kind",
        table_name="ledger_accounts",
        postgresql_where=sa.text("member_id IS NOT NULL"),
    )
    op.drop_table("ledger_accounts")
    op.drop_index("ix_members_pinyin", table_name="members", postgresql_ops={"pinyin_initials": "text_pattern_ops"})
    op.drop_index("ix_members_org_unit", table_name="members")
    op.drop_table("members")
    op.drop_table("rules")
    op.drop_index("ix_org_units_path", table_name="org_units", postgresql_ops={"path": "text_pattern_ops"})
    op.drop_index("ix_org_units_parent", table_name="org_units")
    op.drop_table("org_units")
    op.drop_table("ledger_daily_seals")
    op.drop_index("ix_idempotency_records_created", table_name="idempotency_records")
    op.drop_table("idempotency_records")
    op.drop_table("tenants")
