"""`points-service`: serve, migrate, create-admin, reconcile, leaderboards, warnings, sweep, demo."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.settings import Settings, SettingsError

T = TypeVar("T")


@contextlib.contextmanager
def resolved_settings() -> Iterator[Settings]:
    """Settings with database and Redis URLs: the external ones, or embedded servers started here."""
    settings = Settings.from_env()
    if settings.database_url and settings.redis_url:
        yield settings
        return
    if settings.database_url or settings.redis_url:
        raise SettingsError("Set both DATABASE_URL and REDIS_URL, or neither for the embedded default")
    from points_service.embedded import embedded_services

    with embedded_services(settings.data_dir) as services:
        yield replace(settings.with_services(services.database_url, services.redis_url), embedded_data_owned=True)


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from points_service.database.session import create_engine, session_factory

    async def main() -> T:
        engine = create_engine(settings.database_url or "", pool_size=2)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def migrate_to_head(settings: Settings) -> None:
    from points_service.database.migrate import upgrade

    upgrade(settings.database_url or "")


@click.group()
def main() -> None:
    """Red Points (红色积分) service."""


@main.command()
@click.option("--workers", default=1, show_default=True, help="Worker processes.")
def serve(workers: int) -> None:
    """Migrate, then serve the API (embedded PostgreSQL and Valkey unless DATABASE_URL/REDIS_URL are set)."""
    import uvicorn

    from points_service.bootstrap import ensure_admin

    try:
        with resolved_settings() as settings:
            settings = settings.with_jwt_secret()
            migrate_to_head(settings)
            if settings.admin_username and settings.admin_password:
                username, password = settings.admin_username, settings.admin_password
                if run_in_session(settings, lambda s: ensure_admin(s, settings.tenant_name, username, password)):
                    click.echo(f"created tenant admin {username!r}")
            # Workers build the app from the environment, so hand them exactly what was resolved here.
            os.environ.update(
                DATABASE_URL=settings.database_url or "",
                REDIS_URL=settings.redis_url or "",
                POINTS_JWT_SECRET=settings.jwt_secret or "",
            )
            click.echo(f"serving on http://{settings.host}:{settings.port} (OpenAPI at /schema)")
            uvicorn.run(
                "points_service.app:create_app",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=workers,
                log_level="info",
                access_log=False,
            )
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the newest revision."""
    with resolved_settings() as settings:
        migrate_to_head(settings)
        click.echo("database is at the newest revision")


@main.command("create-admin")
@click.option("--username", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--tenant", "tenant_name", default=None, help="Tenant name (default POINTS_TENANT_NAME).")
def create_admin(username: str, password: str, tenant_name: str | None) -> None:
    """Create a tenant admin (and the tenant, if it does not exist)."""
    from points_service.auth.accounts import create_login
    from points_service.bootstrap import ensure_tenant

    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    with resolved_settings() as settings:
        migrate_to_head(settings)

        async def work(session: AsyncSession) -> None:
            tenant = await ensure_tenant(session, tenant_name or settings.tenant_name)
            await create_login(session, tenant.id, username, password, "admin")

        run_in_session(settings, work)
        click.echo(f"admin {username!r} created")


@main.command()
@click.option("--seal/--no-seal", default=True, show_default=True, help="Seal finished days not sealed yet.")
def reconcile(seal: bool) -> None:
    """Check every ledger invariant; exit non-zero on any breach."""
    from points_service.ledger.reconcile import reconcile as run_checks
    from points_service.tenancy.periods import TenantClock

    with resolved_settings() as settings:
        migrate_to_head(settings)
        # Sealing stops at yesterday in the earliest time zone, so no day is sealed while still open.
        seal_until = TenantClock("Pacific/Kiritimati").today() - timedelta(days=1) if seal else None
        checks = run_in_session(settings, lambda session: run_checks(session, seal_until))
    failed = False
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name} ({check.examined} examined)")
        for breach in check.breaches:
            click.echo(f"       {breach}")
        failed = failed or not check.ok
    if failed:
        sys.exit(1)
    click.echo("ledger reconciles")


@main.group()
def leaderboards() -> None:
    """Live leaderboards in Redis."""


@leaderboards.command("rebuild")
def rebuild_leaderboards() -> None:
    """Rebuild every tenant's boards in Redis from the ledger's earned totals."""
    from sqlalchemy import select

    from points_service.leaderboards.store import rebuild
    from points_service.redis_pool import create_redis
    from points_service.tenancy.models import Tenant

    with resolved_settings() as settings:
        migrate_to_head(settings)

        async def work(session: AsyncSession) -> int:
            redis = create_redis(settings.redis_url or "")
            try:
                boards = 0
                for tenant_id in list(await session.scalars(select(Tenant.id))):
                    boards += await rebuild(session, redis, tenant_id)
                return boards
            finally:
                await redis.aclose()

        click.echo(f"rebuilt {run_in_session(settings, work)} boards")


@main.group()
def warnings() -> None:
    """Early warnings (预警)."""


@warnings.command("run")
def run_warnings() -> None:
    """Store today's early warnings for every tenant that has no run for its local day yet (for cron;
    the API processes also do this after POINTS_DAILY_WARNINGS_AT)."""
    from datetime import UTC, datetime

    from admin.warnings.daily import run_due
    from points_service.database.session import create_engine, session_factory

    async def run(database_url: str) -> tuple[list[str], list[str]]:
        engine = create_engine(database_url, pool_size=2)
        try:
            due = await run_due(session_factory(engine), None, datetime.now(UTC))
        finally:
            await engine.dispose()
        stored = [f"tenant {tenant_id}: {run.run_date}, {run.item_count} findings" for tenant_id, run in due.stored]
        return stored, [f"tenant {tenant_id}: FAILED (see the log)" for tenant_id in due.failed]

    with resolved_settings() as settings:
        migrate_to_head(settings)
        stored, failed = asyncio.run(run(settings.database_url or ""))
    for line in [*stored, *failed]:
        click.echo(line)
    click.echo(f"stored {len(stored)} daily warning runs (tenants already run today are skipped)")
    if failed:
        sys.exit(1)


@main.command()
def sweep() -> None:
    """Expire pending redemptions past their time (the API processes also do this every minute)."""
    from merchants.redemptions.sweep import sweep_expired
    from points_service.database.session import create_engine, session_factory

    async def run(database_url: str) -> int:
        engine = create_engine(database_url, pool_size=2)
        try:
            return await sweep_expired(session_factory(engine))
        finally:
            await engine.dispose()

    with resolved_settings() as settings:
        migrate_to_head(settings)
        click.echo(f"expired {asyncio.run(run(settings.database_url or ''))} redemptions")


@main.command()
@click.option("--admin-username", default="admin", show_default=True)
@click.option("--admin-password", default="admin-password", show_default=True)
@click.option(
    "--scale",
    type=click.Choice(["community", "district"]),
    default="community",
    show_default=True,
    help="community: a small demo in minutes' reading; district: 55 communities and a year of points.",
)
@click.option("--members", type=click.IntRange(1, 200_000), default=None, help="District size (default 8000).")
def demo(admin_username: str, admin_password: str, scale: str, members: int | None) -> None:
    """Load a demo: a small community, or a district at real scale (--scale district)."""
    from points_service.demo import load_demo

    with resolved_settings() as settings:
        migrate_to_head(settings)
        if scale == "district":
            click.echo(str(asyncio.run(load_district_demo(settings, members))))
            return
        summary = run_in_session(settings, lambda s: load_demo(s, settings.tenant_name, admin_username, admin_password))
        click.echo(summary)


async def load_district_demo(settings: Settings, members: int | None) -> object:
    import points_service.database.registry  # noqa: F401 (every table mapped: logins refer to merchants)
    from points_service.database.session import create_engine, session_factory
    from points_service.district_demo import DEFAULT_MEMBERS, load_district

    engine = create_engine(settings.database_url or "", pool_size=2)
    try:
        return await load_district(session_factory(engine), members or DEFAULT_MEMBERS)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
