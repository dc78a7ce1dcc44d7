"""`points-service backup FILE` and `restore FILE` (docs/operations.md): a ledger with awards and
redemptions is written out by the real commands, restored into a fresh database, reconciled, and every
account holds what it held before."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from points_service.app import reconcile_all
from points_service.backups import BackupError, tools_for
from points_service.database.migrate import upgrade
from points_service.database.session import create_engine, session_factory
from tests.conftest import ServedApp, Services, new_community, settings_for
from tests.merchants.test_redemption_flow import shop
from tests.test_migrations import scratch_database


def points_service(*arguments: str, database_url: str, redis_url: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "points_service.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def holdings(database_url: str) -> list[tuple[str, ...]]:
    """Every account's balance and every redemption's state, comparable across databases."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            accounts = await connection.execute(
                text(
                    """SELECT kind, coalesce(member_id::text, merchant_id::text, ''), balance::text,
                              entry_count::text, last_hash
                         FROM ledger_accounts ORDER BY 1, 2"""
                )
            )
            redemptions = await connection.execute(
                text("SELECT id::text, status, points::text FROM redemptions ORDER BY 1")
            )
            return [tuple(row) for row in accounts] + [tuple(row) for row in redemptions]
    finally:
        await engine.dispose()


async def test_a_backup_restores_into_a_fresh_database_that_reconciles_with_equal_balances(
    services: Services, tmp_path: Path
) -> None:
    async with scratch_database(services) as source_url, scratch_database(services) as target_url:
        # A database of its own: the suite's holds rows other tests altered on purpose to fail reconcile.
        await asyncio.to_thread(upgrade, source_url)
        engine = create_engine(source_url, pool_size=2)
        try:
            with ServedApp(settings_for(Services(source_url, services.redis_url))) as app:
                async with new_community(app, session_factory(engine)) as community:
                    unit = await community.org_unit()
                    rule = await community.rule(points=15)
                    members = [await community.member(unit, login=True) for _ in range(3)]
                    for member in members:
                        assert (await community.award(member["id"], rule, quantity=2)).status_code == 201
                    assert (await community.adjust(members[1]["id"], -7)).status_code == 201
                    clerk, _, reward_id = await shop(community, unit, stock=5)
                    fulfilled, pending = [
                        (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()
                        for phone in [await community.client_for(member["username"]) for member in members[::2]]
                    ]
                    answer = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": fulfilled["code"]})
                    assert answer.status_code == 200, answer.text
                    assert pending["status"] == "pending"
        finally:
            await engine.dispose()
        file = tmp_path / "red-points.dump"

        backed_up = await asyncio.to_thread(
            points_service, "backup", str(file), database_url=source_url, redis_url=services.redis_url
        )
        restored = await asyncio.to_thread(
            points_service, "restore", str(file), database_url=target_url, redis_url=services.redis_url
        )

        assert backed_up.returncode == 0, backed_up.stderr
        assert file.stat().st_size > 0
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "1 tenants" in restored.stdout and "ledger reconciles" in restored.stdout
        assert "FAIL" not in restored.stdout
        target = create_async_engine(target_url, poolclass=NullPool)
        try:
            async with session_factory(target)() as session:
                assert [check.name for check in await reconcile_all(session) if not check.ok] == []
        finally:
            await target.dispose()
        before, after = await holdings(source_url), await holdings(target_url)
        assert after == before
        assert len({row[1] for row in after if row[0].startswith("member")}) == 3
        assert sorted(row[1] for row in after if len(row) == 3) == ["fulfilled", "pending"]


async def test_a_restore_into_a_database_that_holds_tables_is_refused_before_it_is_touched(
    services: Services, tmp_path: Path
) -> None:
    file = tmp_path / "any.dump"
    file.write_bytes(b"not read: the refusal comes first")

    refused = await asyncio.to_thread(
        points_service, "restore", str(file), database_url=services.database_url, redis_url=services.redis_url
    )

    assert refused.returncode != 0
    assert "--replace" in refused.stderr


def test_without_tools_of_the_servers_version_the_message_names_the_version_needed() -> None:
    with pytest.raises(BackupError) as refused:
        tools_for(99)

    assert "PostgreSQL 99" in str(refused.value)
    assert "POINTS_PG_BIN" in str(refused.value)
