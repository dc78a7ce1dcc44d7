"""Ready for Citus: every tenant-scoped table can be distributed by `tenant_id` (docs/operations.md).

Citus keeps one tenant's rows of every distributed table on one node, and can enforce a primary key, a
unique index or a foreign key only when it includes the distribution column. This test reads the
migrated schema from PostgreSQL's catalogue, so a new table or index that would block the move fails
here, not on the day a city outgrows one machine.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# Tables without tenant_id, each with why it is global. Citus copies a reference table to every node.
REFERENCE_TABLES = {
    "tenants": "one row per tenant; every tenant-scoped table's tenant_id points here",
    "username_logins": "sign-in names no tenant, so a username must be found before its tenant is known",
    "alembic_version": "the schema's revision, one row, not data",
}

# Every table, and whether it has a tenant_id column.
TABLES = """
SELECT c.relname,
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""

# Primary keys and unique indexes (a unique constraint is one too) on tenant tables, without tenant_id.
UNIQUE_WITHOUT_TENANT = """
SELECT t.relname, pg_get_indexdef(x.indexrelid)
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relname = ANY(:tables) AND (x.indisunique OR x.indisprimary)
  AND NOT EXISTS (
      SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = 'tenant_id' AND a.attnum = ANY(x.indkey)
  )
"""

# Every foreign key with the tables on both ends, and whether each end's columns include tenant_id.
FOREIGN_KEYS = """
SELECT t.relname, r.relname, con.conname, pg_get_constraintdef(con.oid),
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = con.conrelid AND a.attname = 'tenant_id' AND a.attnum = ANY(con.conkey)),
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = con.confrelid AND a.attname = 'tenant_id' AND a.attnum = ANY(con.confkey))
FROM pg_constraint con
JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_class r ON r.oid = con.confrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND con.contype = 'f'
"""


async def catalogue(engine: AsyncEngine, statement: str, **params: object) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(statement), params)]


async def tenant_tables(engine: AsyncEngine) -> list[str]:
    """Every table but the listed reference tables: each is distributed by tenant_id."""
    return sorted(str(name) for name, _ in await catalogue(engine, TABLES) if name not in REFERENCE_TABLES)


async def test_every_table_has_tenant_id_or_is_a_listed_reference_table(engine: AsyncEngine) -> None:
    tables = dict(await catalogue(engine, TABLES))
    assert [name for name, has_tenant_id in tables.items() if not has_tenant_id and name not in REFERENCE_TABLES] == []
    assert set(REFERENCE_TABLES) <= set(tables)
    assert len(await tenant_tables(engine)) > 30


async def test_every_primary_key_and_unique_index_of_a_tenant_table_includes_tenant_id(engine: AsyncEngine) -> None:
    offending = await catalogue(engine, UNIQUE_WITHOUT_TENANT, tables=await tenant_tables(engine))
    assert offending == []


async def test_every_foreign_key_between_tenant_tables_includes_tenant_id_on_both_ends(engine: AsyncEngine) -> None:
    tables = set(await tenant_tables(engine))
    offending = [
        (table, definition)
        for table, referenced, _, definition, referencing_has, referenced_has in await catalogue(engine, FOREIGN_KEYS)
        if table in tables and referenced in tables and not (referencing_has and referenced_has)
    ]
    assert offending == []


async def test_tenant_tables_reach_reference_tables_only_by_tenant_id(engine: AsyncEngine) -> None:
    """tenant_id -> tenants(id) is how a distributed table meets a reference table (Citus allows it)."""
    tables = set(await tenant_tables(engine))
    offending = [
        (table, definition)
        for table, referenced, _, definition, referencing_has, _ in await catalogue(engine, FOREIGN_KEYS)
        if table in tables and referenced in REFERENCE_TABLES and not referencing_has
    ]
    assert offending == []


async def test_reference_tables_never_point_into_tenant_tables(engine: AsyncEngine) -> None:
    """Citus refuses a foreign key from a reference table to a distributed one."""
    tables = set(await tenant_tables(engine))
    offending = [
        (table, definition)
        for table, referenced, _, definition, _, _ in await catalogue(engine, FOREIGN_KEYS)
        if table in REFERENCE_TABLES and referenced in tables
    ]
    assert offending == []
