"""`points-service`: serve, migrate, create-admin, reconcile, backup, restore, leaderboards, demo, and the
commands each package's plugin adds (admin: `warnings run`; merchants: `sweep`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.command_env import (
    migrate_to_head,
    resolved_database,
    resolved_settings,
    run_in_session,
    with_sessions,
)
from points_service.settings import Settings, SettingsError

if TYPE_CHECKING:
    from points_service.ledger.reconcile import Check


@click.group()
def main() -> None:
    """Red Points (红色积分) service."""


@main.command()
@click.option("--workers", default=1, show_default=True, help="Worker processes.")
@click.option(
    "--server",
    type=click.Choice(["granian", "uvicorn"]),
    default="granian",
    show_default=True,
    help="The HTTP server (bench/README.md: why granian).",
)
def serve(workers: int, server: str) -> None:
    """Migrate, then serve the API (embedded PostgreSQL and Valkey unless DATABASE_URL/REDIS_URL are set)."""
    from points_service.bootstrap import ensure_admin
    from points_service.observability.logs import configure_logging
    from points_service.observability.metrics import MULTIPROCESS_DIRECTORY, prepare_multiprocess_directory

    try:
        with resolved_settings(own_servers=True) as settings:
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
            if workers > 1 and settings.observe_requests and not os.environ.get(MULTIPROCESS_DIRECTORY):
                # Each worker writes its metrics there and /metrics adds them up (observability/metrics.py).
                prepare_multiprocess_directory(settings.data_dir / "prometheus")
            click.echo(f"serving on http://{settings.host}:{settings.port} (OpenAPI at /schema)")
            # The supervisor of several workers never builds an app: its own lines need the handler too.
            configure_logging()
            # Several workers end with their supervisor (points_service/worker.py).
            factory = "points_service.worker:create_worker_app" if workers > 1 else "points_service.app:create_app"
            with job_worker_beside(settings, workers):
                if server == "granian":
                    _serve_granian(settings, workers, factory)
                    return
                import uvicorn

                uvicorn.run(
                    factory,
                    factory=True,
                    host=settings.host,
                    port=settings.port,
                    workers=workers,
                    # The supervisor kills a worker that does not answer its ping in time, starting ones
                    # included: at uvicorn's 5 s, a loaded machine never finished importing the app and
                    # workers were killed and respawned in a loop, the service never serving.
                    timeout_worker_healthcheck=30,
                    log_level="info",
                    # uvicorn's loggers propagate to the service's structured handler (observability/logs.py),
                    # and the service writes its own access line per request.
                    log_config=None,
                    access_log=False,
                    # The app believes forwarded headers from POINTS_TRUSTED_PROXIES only (app.py);
                    # uvicorn's own rewrite (FORWARDED_ALLOW_IPS) would run before it.
                    proxy_headers=False,
                )
    except SettingsError as error:
        raise click.ClickException(str(error)) from error


@contextlib.contextmanager
def job_worker_beside(settings: Settings, api_workers: int) -> Iterator[None]:
    """With POINTS_WORKER=inside, one job worker per `serve`: in the one API process, or, with several,
    as a `points-service worker` process started and stopped here, the API workers told to run none."""
    if settings.worker != "inside" or api_workers <= 1:
        yield
        return
    os.environ["POINTS_WORKER"] = "apart"
    command = [sys.executable, "-c", "from points_service.cli import main; main()", "worker"]
    process = subprocess.Popen([*command, "--supervisor", str(os.getpid())])  # noqa: S603 (our own command)
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@main.command()
@click.option("--concurrency", default=4, show_default=True, help="Jobs run at once.")
# Set by `serve` for the worker it starts beside its API workers: one that outlives a `kill -9`'d serve
# would hold the queue and the embedded servers' connections with nobody to stop it.
@click.option("--supervisor", type=int, default=None, hidden=True)
def worker(concurrency: int, supervisor: int | None) -> None:
    """Run the job queue's worker (imports, the daily warnings, seals, sweeps) apart from the service,
    for POINTS_WORKER=apart; any number may run, each job runs on one of them."""
    from points_service.app import all_work
    from points_service.jobs.worker import build_worker, close_queue, job_queue
    from points_service.observability.logs import configure_logging

    configure_logging()
    if supervisor is not None:
        from points_service.worker import end_with

        end_with(supervisor)
    with resolved_settings() as settings:
        migrate_to_head(settings)

        async def run() -> None:
            queue = job_queue(settings.redis_url or "")
            try:
                await build_worker(queue, all_work(), settings, concurrency, own_signals=True).start()
            finally:
                await close_queue(queue)

        click.echo(f"job worker running ({concurrency} at once); Ctrl-C stops it")
        asyncio.run(run())


def _serve_granian(settings: Settings, workers: int, factory: str) -> None:
    import multiprocessing

    from granian import Granian
    from granian.constants import Interfaces, Loops

    # Workers start as fresh interpreters, as uvicorn's do. Forked from this process, which has
    # imported prometheus-client before PROMETHEUS_MULTIPROC_DIR was set, /metrics would no longer
    # add the workers up; and they would inherit a hashing pool without its threads (passwords.py).
    multiprocessing.set_start_method("spawn", force=True)
    Granian(
        factory,
        factory=True,
        address=settings.host,
        port=settings.port,
        workers=workers,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        # A worker that dies is replaced, as uvicorn's supervisor does.
        respawn_failed_workers=True,
        # The service writes its own access line per request (observability/requests.py), and
        # believes forwarded headers from POINTS_TRUSTED_PROXIES only (app.py).
        log_access=False,
        # granian's own lines go to the service's structured handler (observability/logs.py).
        log_dictconfig={
            "version": 1,
            "disable_existing_loggers": False,
            "loggers": {name: {"handlers": [], "propagate": True} for name in ("_granian", "granian.access")},
        },
    ).serve()


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
    from points_service.app import reconcile_all
    from points_service.tenancy.periods import TenantClock

    with resolved_settings() as settings:
        migrate_to_head(settings)
        # Sealing stops at yesterday in the earliest time zone, so no day is sealed while still open.
        seal_until = TenantClock("Pacific/Kiritimati").today() - timedelta(days=1) if seal else None
        checks = run_in_session(settings, lambda session: reconcile_all(session, seal_until))
    if not reported(checks):
        sys.exit(1)
    click.echo("ledger reconciles")


def reported(checks: list[Check]) -> bool:
    """Print each check; whether all of them passed."""
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"[{mark}] {check.name} ({check.examined} examined)")
        for breach in check.breaches:
            click.echo(f"       {breach}")
    return all(check.ok for check in checks)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write the database to FILE with pg_dump of the server's own version (custom format).

    Safe while the service runs: the dump is one consistent snapshot."""
    from points_service.backups import BackupError, dump, server_major, tools_for

    with resolved_database() as settings:
        major = run_in_session(settings, server_major)
        try:
            tools = tools_for(major, settings.pg_bin)
            size = dump(tools, settings.database_url or "", file)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"backed up to {file} ({size:,} bytes; PostgreSQL {major}, {tools.pg_dump})")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Drop everything in the database first (otherwise it must be empty).")
def restore(file: Path, replace: bool) -> None:
    """Restore FILE (written by `backup`) into the database, migrate it to the newest schema, and
    reconcile the ledger; exit non-zero unless it reconciles. Stop the service first."""
    from points_service.app import reconcile_all
    from points_service.backups import (
        BackupError,
        check_archive,
        empty_public_schema,
        ledger_size,
        load,
        server_major,
        tables_in,
        tools_for,
    )
    from points_service.leaderboards.store import outdate_all_boards

    with resolved_database() as settings:
        try:
            tools = tools_for(run_in_session(settings, server_major), settings.pg_bin)
            holds_tables = run_in_session(settings, tables_in)
            if holds_tables and not replace:
                raise BackupError(
                    "the database already holds tables: restore into an empty database, "
                    "or pass --replace to drop everything in it first"
                )
            check_archive(tools, file)
            if holds_tables:
                run_in_session(settings, empty_public_schema)
            load(tools, settings.database_url or "", file)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
        migrate_to_head(settings)
        # The boards in Redis describe the ledger before the restore: every process's upkeep rebuilds them.
        run_in_session(settings, outdate_all_boards)
        checks = run_in_session(settings, lambda session: reconcile_all(session, None))
        tenants, transactions = run_in_session(settings, ledger_size)
    if not reported(checks):
        click.echo(f"restored {file}, but the ledger does NOT reconcile: do not serve from it", err=True)
        sys.exit(1)
    click.echo(f"restored {file}: {tenants} tenants, {transactions:,} ledger transactions; ledger reconciles")


@main.group()
def seals() -> None:
    """Daily seals of the ledger (the digest a printed 公示 sheet carries)."""


@seals.command("verify")
@click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="The sealed day.")
@click.option("--tenant", "tenant_id", default=None, type=click.UUID, help="One tenant (default: every tenant).")
def verify_seals(day: datetime, tenant_id: uuid.UUID | None) -> None:
    """Recompute a sealed day from the ledger's rows and compare it with the stored, published seal;
    exit non-zero when they differ or the day is not sealed."""
    from points_service.ledger.seals import verify_day

    sealed = day.date()
    with resolved_settings() as settings:
        migrate_to_head(settings)
        verdicts = run_in_session(settings, lambda session: verify_day(session, sealed, tenant_id))
    if not verdicts:
        click.echo(f"No seal is stored for {sealed}: that day is not sealed yet (or had no transactions).")
        sys.exit(1)
    for verdict in verdicts:
        if verdict.ok:
            click.echo(
                f"tenant {verdict.tenant_id}, {sealed}: the ledger matches its seal "
                f"({verdict.transactions} transactions, digest {verdict.stored.digest})."
            )
        else:
            click.echo(
                f"tenant {verdict.tenant_id}, {sealed}: the ledger does NOT match its seal: the day's "
                f"{verdict.transactions} transactions recompute to {verdict.recomputed}, but the stored and "
                f"published seal is {verdict.stored.digest} ({verdict.stored.transactions} transactions). "
                "A transaction of that day was changed after it was sealed."
            )
    if not all(verdict.ok for verdict in verdicts):
        sys.exit(1)


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
    """Load a demo: a small community with every page's data and printed logins (again: prints them
    again, changes nothing), or a district at real scale (--scale district)."""
    from points_service.demo import load_demo

    with resolved_settings() as settings:
        migrate_to_head(settings)
        if scale == "district":
            click.echo(str(asyncio.run(load_district_demo(settings, members))))
            return
        summary = run_in_session(settings, lambda s: load_demo(s, settings.tenant_name, admin_username, admin_password))
        click.echo(summary)


async def load_district_demo(settings: Settings, members: int | None) -> object:
    from points_service.district_demo import DEFAULT_MEMBERS, load_district

    async def load(sessions: async_sessionmaker[AsyncSession]) -> object:
        return await load_district(sessions, members or DEFAULT_MEMBERS)

    return await with_sessions(settings, load)


def add_plugin_commands(cli: click.Group) -> None:
    """The commands each package brings (`warnings run`, `sweep`), found through the composition root;
    importing it also maps every table, which any session of a command needs."""
    from points_service.app import plugins

    for plugin in plugins():
        plugin.on_cli_init(cli)


add_plugin_commands(main)


if __name__ == "__main__":
    main()
