"""Alembic migrations against scratch databases on the suite's PostgreSQL server.

The schema is the one thing the ledger's guarantees rest on (docs/ledger.md): these tests build it
from nothing, tear it down, compare it with the models, and show that the database itself refuses what
the ledger forbids (UPDATE, DELETE, unbalanced transactions, negative cached balances), and that
`reconcile` catches a row altered behind the triggers' back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from points_service.app import reconcile_all, schema
from points_service.auth.principal import Principal
from points_service.bootstrap import create_tenant
from points_service.database.migrate import alembic_config, downgrade, upgrade
from points_service.database.session import session_factory
from points_service.ledger.models import MERCHANT_STRIPES
from points_service.ledger.reconcile import Check
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService, Posted
from points_service.org.service import OrgService
from points_service.rules.models import Rule
from points_service.tenancy.periods import TenantClock
from tests.conftest import Services

MODEL_TABLES = set(schema().tables)
HASH_CHECK = "transaction digests and per-account hash chains recompute"


# -- scratch databases ----------------------------------------------------------------------------


@asynccontextmanager
async def engine_for(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine that keeps no idle connections, so the scratch database can be dropped afterwards."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_database(services: Services) -> AsyncIterator[str]:
    """A new, empty database on the suite's server (database `postgres` is the way in); dropped afterwards."""
    url = make_url(services.database_url)
    name = f"red_points_scratch_{uuid.uuid4().hex[:12]}"
    server = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with server.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with server.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await server.dispose()


@pytest.fixture
async def empty_database(services: Services) -> AsyncIterator[str]:
    async with scratch_database(services) as database_url:
        yield database_url


@pytest.fixture(scope="module")
async def migrated_database(services: Services) -> AsyncIterator[str]:
    """Shared by the tests that only insert rows, each in a tenant of its own."""
    async with scratch_database(services) as database_url:
        await asyncio.to_thread(upgrade, database_url)
        yield database_url


async def migrate(database_url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, database_url, revision)


async def unmigrate(database_url: str, revision: str = "base") -> None:
    await asyncio.to_thread(downgrade, database_url, revision)


async def tables(database_url: str) -> set[str]:
    async with engine_for(database_url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        )
        return {row[0] for row in rows}


async def ledger_functions(database_url: str) -> set[str]:
    async with engine_for(database_url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND p.proname LIKE 'ledger_%'"
            )
        )
        return {row[0] for row in rows}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None
    return head


# -- raw ledger rows ------------------------------------------------------------------------------


async def seed_tenant(connection: AsyncConnection) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A tenant with an issuance account and a merchant's account (neither needs a member): committed."""
    tenant_id, issuance_id, merchant_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    shop_id, unit_id = uuid.uuid4(), uuid.uuid4()
    await connection.execute(
        text("INSERT INTO tenants (id, name, timezone) VALUES (:id, :name, 'Asia/Shanghai')"),
        {"id": tenant_id, "name": f"街道-{tenant_id.hex[:6]}"},
    )
    await connection.execute(
        text(
            "INSERT INTO org_units (tenant_id, id, name, kind, path) "
            "VALUES (:tenant, :unit, '社区', 'community', :path)"
        ),
        {"tenant": tenant_id, "unit": unit_id, "path": f"/{unit_id.hex}/"},
    )
    await connection.execute(
        text(
            "INSERT INTO merchants (tenant_id, id, name, address, org_unit_id, status, honours) "
            "VALUES (:tenant, :shop, '小店', '路1号', :unit, 'active', '{}')"
        ),
        {"tenant": tenant_id, "shop": shop_id, "unit": unit_id},
    )
    await connection.execute(
        text(
            "INSERT INTO ledger_accounts (tenant_id, id, kind, merchant_id, balance, entry_count, last_hash) "
            "VALUES (:tenant, :issuance, 'issuance', NULL, 0, 0, ''), (:tenant, :merchant, 'merchant', :shop, 0, 0, '')"
        ),
        {"tenant": tenant_id, "issuance": issuance_id, "merchant": merchant_id, "shop": shop_id},
    )
    await connection.commit()
    return tenant_id, issuance_id, merchant_id


async def insert_transaction(
    connection: AsyncConnection, tenant_id: uuid.UUID, lines: list[tuple[uuid.UUID, int]]
) -> uuid.UUID:
    """One ledger transaction and its entries, not committed: the balance check runs at COMMIT."""
    transaction_id = uuid.uuid4()
    await connection.execute(
        text(
            "INSERT INTO ledger_transactions (tenant_id, id, kind, local_date, earned_delta, digest) "
            "VALUES (:tenant, :id, 'adjustment', current_date, 0, 'x')"
        ),
        {"tenant": tenant_id, "id": transaction_id},
    )
    for account_id, amount in lines:
        await connection.execute(
            text(
                "INSERT INTO ledger_entries (tenant_id, transaction_id, account_id, amount, hash) "
                "VALUES (:tenant, :transaction, :account, :amount, 'x')"
            ),
            {"tenant": tenant_id, "transaction": transaction_id, "account": account_id, "amount": amount},
        )
    return transaction_id


async def count_entries(connection: AsyncConnection, transaction_id: uuid.UUID) -> int:
    return int(
        await connection.scalar(
            text("SELECT count(*) FROM ledger_entries WHERE transaction_id = :id"), {"id": transaction_id}
        )
        or 0
    )


async def posted_transaction(migrated_database: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A committed, balanced transaction: (tenant, transaction, merchant account)."""
    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        tenant_id, issuance_id, merchant_id = await seed_tenant(connection)
        transaction_id = await insert_transaction(connection, tenant_id, [(issuance_id, -5), (merchant_id, 5)])
        await connection.commit()
    return tenant_id, transaction_id, merchant_id


# -- a real posting, for reconcile ----------------------------------------------------------------


async def award_through_the_ledger_service(engine: AsyncEngine) -> Posted:
    """Tenant, org unit, member and rule set up by the services, then 10 points awarded."""
    async with session_factory(engine)() as session, session.begin():
        tenant = await create_tenant(session, "对账街道")
        admin = Principal(account_id=uuid.uuid4(), tenant_id=tenant.id, role="admin")
        ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock("Asia/Shanghai"), None)
        org = OrgService(session, admin)
        unit = await org.create_unit("红旗社区", "community", None)
        member = await org.create_member(ledger, "张三", "13900001234", unit.id, "none", None, None, None)
        rule = Rule(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            code="VOLUNTEER",
            name="志愿服务",
            category="volunteer",
            points=10,
            unit="each",
            daily_cap=None,
            monthly_cap=None,
            requires_approval=False,
            is_active=True,
        )
        session.add(rule)
        await session.flush()
        return await ledger.award(member.id, rule, Decimal(1), None)


async def run_reconcile(engine: AsyncEngine) -> list[Check]:
    async with session_factory(engine)() as session, session.begin():
        return await reconcile_all(session)


async def tamper(engine: AsyncEngine, *statements: str, **params: Any) -> None:
    """Change ledger rows as an intruder with DDL rights would: with the append-only trigger switched off."""
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
        for statement in statements:
            await connection.execute(text(statement), params)
        await connection.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only"))


def failing(checks: list[Check]) -> set[str]:
    return {check.name for check in checks if not check.ok}


# -- migrations -----------------------------------------------------------------------------------


async def test_upgrade_from_empty_database_creates_every_table(empty_database: str) -> None:
    assert await tables(empty_database) == set()

    await migrate(empty_database)

    assert await tables(empty_database) == MODEL_TABLES | {"alembic_version"}
    async with engine_for(empty_database) as engine, engine.connect() as connection:
        assert await connection.scalar(text("SELECT version_num FROM alembic_version")) == head_revision()


async def test_upgrade_twice_is_a_no_op(empty_database: str) -> None:
    await migrate(empty_database)

    await migrate(empty_database)

    assert await tables(empty_database) == MODEL_TABLES | {"alembic_version"}


async def test_downgrade_to_base_leaves_no_tables(empty_database: str) -> None:
    await migrate(empty_database)

    await unmigrate(empty_database)

    assert await tables(empty_database) - {"alembic_version"} == set()
    assert await ledger_functions(empty_database) == set()


async def test_upgrade_after_downgrade_rebuilds_the_schema(empty_database: str) -> None:
    await migrate(empty_database)
    await unmigrate(empty_database)

    await migrate(empty_database)

    assert await tables(empty_database) == MODEL_TABLES | {"alembic_version"}
    assert await ledger_functions(empty_database) == {"ledger_refuse_change", "ledger_check_balanced"}


async def merchant_accounts(database_url: str, tenant_id: uuid.UUID) -> list[tuple[int, uuid.UUID]]:
    async with engine_for(database_url) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT stripe, id FROM ledger_accounts WHERE tenant_id = :t AND kind = 'merchant' ORDER BY stripe"),
            {"t": tenant_id},
        )
        return [(int(row.stripe), row.id) for row in rows]


async def test_a_merchant_opened_before_0021_gets_its_stripes_and_keeps_its_account(empty_database: str) -> None:
    await migrate(empty_database, "0020")
    async with engine_for(empty_database) as engine, engine.connect() as connection:
        tenant_id, issuance_id, merchant_id = await seed_tenant(connection)
        await insert_transaction(connection, tenant_id, [(issuance_id, -5), (merchant_id, 5)])
        await connection.commit()

    await migrate(empty_database)
    stripes = await merchant_accounts(empty_database, tenant_id)
    assert [stripe for stripe, _ in stripes] == list(range(MERCHANT_STRIPES))
    assert stripes[0][1] == merchant_id

    await unmigrate(empty_database, "0020")
    async with engine_for(empty_database) as engine, engine.connect() as connection:
        left = await connection.scalars(
            text("SELECT id FROM ledger_accounts WHERE tenant_id = :t AND kind = 'merchant'"), {"t": tenant_id}
        )
        assert list(left) == [merchant_id]


async def test_models_and_migrated_schema_do_not_drift(migrated_database: str) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, schema()))

    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        differences = await connection.run_sync(diff)

    assert differences == []


# -- what the database itself refuses -------------------------------------------------------------


async def test_balanced_transaction_commits(migrated_database: str) -> None:
    _, transaction_id, _ = await posted_transaction(migrated_database)

    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        assert await count_entries(connection, transaction_id) == 2


async def test_ledger_entry_cannot_be_updated(migrated_database: str) -> None:
    _, transaction_id, _ = await posted_transaction(migrated_database)

    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(
                text("UPDATE ledger_entries SET amount = amount * 2 WHERE transaction_id = :id"), {"id": transaction_id}
            )
        await connection.rollback()
        amounts = await connection.scalars(
            text("SELECT amount FROM ledger_entries WHERE transaction_id = :id"), {"id": transaction_id}
        )
        assert sorted(amounts) == [-5, 5]


async def test_ledger_entry_cannot_be_deleted(migrated_database: str) -> None:
    _, transaction_id, _ = await posted_transaction(migrated_database)

    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(
                text("DELETE FROM ledger_entries WHERE transaction_id = :id"), {"id": transaction_id}
            )
        await connection.rollback()
        assert await count_entries(connection, transaction_id) == 2


async def test_ledger_transaction_cannot_be_updated_or_deleted(migrated_database: str) -> None:
    _, transaction_id, _ = await posted_transaction(migrated_database)

    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(
                text("UPDATE ledger_transactions SET earned_delta = 99 WHERE id = :id"), {"id": transaction_id}
            )
        await connection.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(text("DELETE FROM ledger_transactions WHERE id = :id"), {"id": transaction_id})
        await connection.rollback()


async def test_transaction_with_a_single_entry_fails_at_commit(migrated_database: str) -> None:
    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        tenant_id, _, merchant_id = await seed_tenant(connection)
        transaction_id = await insert_transaction(connection, tenant_id, [(merchant_id, 5)])

        with pytest.raises(DBAPIError, match="unbalanced"):
            await connection.commit()

    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        assert await count_entries(connection, transaction_id) == 0


async def test_transaction_whose_entries_do_not_sum_to_zero_fails_at_commit(migrated_database: str) -> None:
    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        tenant_id, issuance_id, merchant_id = await seed_tenant(connection)
        transaction_id = await insert_transaction(connection, tenant_id, [(issuance_id, -5), (merchant_id, 6)])

        with pytest.raises(DBAPIError, match="unbalanced"):
            await connection.commit()

    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        assert await count_entries(connection, transaction_id) == 0


async def test_transaction_without_entries_fails_at_commit(migrated_database: str) -> None:
    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        tenant_id, _, _ = await seed_tenant(connection)
        await insert_transaction(connection, tenant_id, [])

        with pytest.raises(DBAPIError, match="unbalanced"):
            await connection.commit()


async def test_cached_balance_cannot_go_negative(migrated_database: str) -> None:
    async with engine_for(migrated_database) as engine, engine.connect() as connection:
        _, _, merchant_id = await seed_tenant(connection)

        with pytest.raises(DBAPIError, match="balance_not_negative"):
            await connection.execute(
                text("UPDATE ledger_accounts SET balance = -1 WHERE id = :id"), {"id": merchant_id}
            )


# -- reconcile detects tampering ------------------------------------------------------------------


async def test_reconcile_is_clean_after_a_real_award(empty_database: str) -> None:
    await migrate(empty_database)
    async with engine_for(empty_database) as engine:
        posted = await award_through_the_ledger_service(engine)

        checks = await run_reconcile(engine)

    assert posted.balance == 10
    assert failing(checks) == set()
    assert all(check.examined > 0 for check in checks if check.name == HASH_CHECK)


async def test_reconcile_reports_an_altered_entry_amount(empty_database: str) -> None:
    await migrate(empty_database)
    async with engine_for(empty_database) as engine:
        posted = await award_through_the_ledger_service(engine)
        assert failing(await run_reconcile(engine)) == set()

        await tamper(
            engine,
            "UPDATE ledger_entries SET amount = 1000 WHERE transaction_id = :id AND amount = 10",
            id=posted.transaction_id,
        )
        checks = await run_reconcile(engine)

    assert HASH_CHECK in failing(checks)
    assert "cached balance equals the sum of the account's entries" in failing(checks)
    assert "every transaction has two or more entries summing to zero" in failing(checks)


async def test_reconcile_reports_a_consistent_forgery_by_its_hashes(empty_database: str) -> None:
    # Both entries and the cached balance changed together: every sum still agrees, only the hashes do not.
    await migrate(empty_database)
    async with engine_for(empty_database) as engine:
        posted = await award_through_the_ledger_service(engine)
        assert failing(await run_reconcile(engine)) == set()

        await tamper(
            engine,
            "UPDATE ledger_entries SET amount = amount * 100 WHERE transaction_id = :id",
            "UPDATE ledger_accounts SET balance = balance * 100 WHERE kind = 'member_available'",
            id=posted.transaction_id,
        )
        checks = await run_reconcile(engine)

    assert failing(checks) == {HASH_CHECK}
