"""What every `points-service` command stands on, whichever package brings the command: the resolved
settings (external servers, or embedded ones started for the command), a migrated database, sessions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.settings import Settings, SettingsError

T = TypeVar("T")


@contextlib.contextmanager
def resolved_settings(own_servers: bool = False) -> Iterator[Settings]:
    """Settings with database and Redis URLs: the external ones, or the embedded servers, those of the
    service running on the data folder when there is one (a command run beside `serve`), else started
    here. `own_servers` (`serve`, one per data folder): start them here, telling commands run beside it
    where they are, or refuse when the folder is in use."""
    settings = Settings.from_env()
    if settings.database_url and settings.redis_url:
        yield settings
        return
    if settings.database_url or settings.redis_url:
        raise SettingsError("Set both DATABASE_URL and REDIS_URL, or neither for the embedded default")
    from points_service.embedded import EmbeddedServices, embedded_services, running_services

    def on(services: EmbeddedServices) -> Settings:
        return replace(settings.with_services(services.database_url, services.redis_url), embedded_data_owned=True)

    running = None if own_servers else running_services(settings.data_dir)
    if running is not None:
        yield on(running)
        return
    with embedded_services(settings.data_dir, announce=own_servers) as services:
        yield on(services)


@contextlib.contextmanager
def resolved_database() -> Iterator[Settings]:
    """Settings with a database URL alone (the external one, or the embedded PostgreSQL), for commands
    that need no Redis."""
    settings = Settings.from_env()
    if settings.database_url:
        yield settings
        return
    if settings.redis_url:
        raise SettingsError("Set both DATABASE_URL and REDIS_URL, or neither for the embedded default")
    from points_service.embedded import embedded_database

    with embedded_database(settings.data_dir) as database_url:
        yield replace(settings, database_url=database_url, embedded_data_owned=True)


async def with_sessions(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """`work` over a small pool of its own, closed when it ends."""
    from points_service.database.session import create_engine, session_factory

    engine = create_engine(settings.database_url or "", pool_size=2)
    try:
        return await work(session_factory(engine))
    finally:
        await engine.dispose()


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in one session and transaction, committed when it returns."""

    async def in_one_transaction(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with sessions() as session, session.begin():
            return await work(session)

    return asyncio.run(with_sessions(settings, in_one_transaction))


def migrate_to_head(settings: Settings) -> None:
    from points_service.database.migrate import upgrade

    upgrade(settings.database_url or "")
