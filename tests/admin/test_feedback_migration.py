"""Ratings given before rating links were per sign-up stay readable after the migration that added them:
staff ratings are marked as staff, the residents' as residents, and both keep counting."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.test_migrations import empty_database, engine_for, migrate

__all__ = ["empty_database"]


async def test_ratings_given_before_links_keep_counting_and_say_who_gave_them(empty_database: str) -> None:
    tenant, unit, member, staff = (uuid.uuid4() for _ in range(4))
    await migrate(empty_database, "0010")
    async with engine_for(empty_database) as engine, engine.begin() as connection:
        for statement, params in (
            ("INSERT INTO tenants (id, name, timezone) VALUES (:t, '街道', 'Asia/Shanghai')", {}),
            (
                "INSERT INTO org_units (tenant_id, id, name, kind, path) VALUES (:t, :u, '社区', 'community', :path)",
                {"path": f"/{unit}/"},
            ),
            (
                "INSERT INTO members (tenant_id, id, name, phone, org_unit_id, party_status, pinyin_initials) "
                "VALUES (:t, :m, '张三', '13900000000', :u, 'none', 'zs')",
                {},
            ),
            (
                "INSERT INTO login_accounts (tenant_id, id, username, password_hash, role, is_active, org_unit_id) "
                "VALUES (:t, :s, 'staff', 'x', 'staff', true, :u)",
                {},
            ),
            (
                "INSERT INTO feedback (tenant_id, id, member_id, subject_kind, subject_id, rating, given_by) VALUES "
                "(:t, gen_random_uuid(), :m, 'activity', :a, 5, NULL), "
                "(:t, gen_random_uuid(), :m, 'activity', :a, 5, NULL), "
                "(:t, gen_random_uuid(), :m, 'activity', :a, 2, :s)",
                {"a": uuid.uuid4()},
            ),
        ):
            await connection.execute(text(statement), {"t": tenant, "u": unit, "m": member, "s": staff, **params})

    await migrate(empty_database)

    async with engine_for(empty_database) as engine, engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT giver_kind, count(*), avg(rating) FROM feedback WHERE tenant_id = :t GROUP BY giver_kind"),
            {"t": tenant},
        )
        kinds = {kind: (count, float(average)) for kind, count, average in rows}
    assert kinds == {"resident": (2, 5.0), "staff": (1, 2.0)}
