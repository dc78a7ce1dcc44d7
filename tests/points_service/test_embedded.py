"""The embedded default (docs/architecture.md) and how settings resolve the signing secret (docs/api.md, "Start-up").

The embedded servers here use a data folder of their own, apart from the suite's. Each start takes a few
seconds, so the whole file starts them twice: once to write data and stop, once to read it back.
"""

from __future__ import annotations

import gc
import socket
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psutil
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from points_service.embedded import embedded_services
from points_service.settings import Settings, SettingsError

EXTERNAL = {"DATABASE_URL": "postgresql+asyncpg://points@db.example/points", "REDIS_URL": "redis://cache.example/0"}


@dataclass(frozen=True)
class FirstRun:
    data_dir: Path
    database_url: str
    redis_port: int
    postmaster_pid: int


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])


def process_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


async def write_marks(database_url: str, redis_url: str) -> None:
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE keepsake (id int PRIMARY KEY, note text NOT NULL)"))
            await connection.execute(text("INSERT INTO keepsake VALUES (1, '红色积分')"))
    finally:
        await engine.dispose()
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        await redis.set("keepsake", "红色积分")
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="red-points-embedded-") as folder:
        yield Path(folder) / "data"


@pytest.fixture(scope="module")
async def first_run(data_dir: Path) -> FirstRun:
    """Start the embedded servers, write a row and a key, stop them; report what ran."""
    with embedded_services(data_dir) as services:
        await write_marks(services.database_url, services.redis_url)
        run = FirstRun(
            data_dir=data_dir,
            database_url=services.database_url,
            redis_port=int(services.redis_url.rsplit(":", 1)[1].split("/")[0]),
            postmaster_pid=postmaster_pid(data_dir),
        )
        assert process_alive(run.postmaster_pid)
        assert accepts_connections(run.redis_port)
    return run


async def test_leaving_the_context_stops_postgres(first_run: FirstRun) -> None:
    assert not process_alive(first_run.postmaster_pid)
    assert not (first_run.data_dir / "postgres" / "postmaster.pid").exists()


async def test_leaving_the_context_stops_valkey(first_run: FirstRun) -> None:
    assert not accepts_connections(first_run.redis_port)


async def test_data_survives_a_restart(first_run: FirstRun) -> None:
    with embedded_services(first_run.data_dir) as services:
        # Handles left over from the first run must not stop this run's servers when they are collected.
        gc.collect()
        engine = create_async_engine(services.database_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(text("SELECT id, note FROM keepsake"))).all()
        finally:
            await engine.dispose()
        redis = Redis.from_url(services.redis_url, decode_responses=True)
        try:
            kept = await redis.get("keepsake")
        finally:
            await redis.aclose()

    assert services.database_url == first_run.database_url
    assert [tuple(row) for row in rows] == [(1, "红色积分")]
    assert kept == "红色积分"


# -- the signing secret ---------------------------------------------------------------------------


def test_external_services_without_a_secret_refuse_to_start() -> None:
    settings = Settings.from_env(EXTERNAL)

    with pytest.raises(SettingsError, match="POINTS_JWT_SECRET"):
        settings.with_jwt_secret()


def test_external_services_with_a_secret_use_it() -> None:
    secret = "s" * 40

    settings = Settings.from_env({**EXTERNAL, "POINTS_JWT_SECRET": secret}).with_jwt_secret()

    assert settings.jwt_secret == secret


def test_short_secret_is_refused() -> None:
    settings = Settings.from_env({**EXTERNAL, "POINTS_JWT_SECRET": "too-short-a-secret"})

    with pytest.raises(SettingsError, match="32"):
        settings.with_jwt_secret()


def test_embedded_mode_generates_a_secret_into_the_data_dir(tmp_path: Path) -> None:
    settings = replace(Settings.from_env({"POINTS_DATA_DIR": str(tmp_path / "data")}), embedded_data_owned=True)

    resolved = settings.with_jwt_secret()

    secret_file = tmp_path / "data" / "jwt_secret"
    assert resolved.jwt_secret is not None
    assert len(resolved.jwt_secret) >= 32
    assert secret_file.read_text().strip() == resolved.jwt_secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600


def test_embedded_mode_reuses_the_generated_secret(tmp_path: Path) -> None:
    settings = replace(Settings.from_env({"POINTS_DATA_DIR": str(tmp_path)}), embedded_data_owned=True)

    first = settings.with_jwt_secret().jwt_secret
    second = settings.with_jwt_secret().jwt_secret
    after_restart = (
        replace(Settings.from_env({"POINTS_DATA_DIR": str(tmp_path)}), embedded_data_owned=True)
        .with_jwt_secret()
        .jwt_secret
    )

    assert first == second == after_restart


def test_each_data_dir_gets_its_own_secret(tmp_path: Path) -> None:
    secrets = {
        replace(Settings(data_dir=tmp_path / name), embedded_data_owned=True).with_jwt_secret().jwt_secret
        for name in ("one", "two")
    }

    assert len(secrets) == 2


def test_unset_urls_mean_embedded() -> None:
    assert Settings.from_env({}).embedded
    assert Settings.from_env({"DATABASE_URL": EXTERNAL["DATABASE_URL"]}).embedded
    assert not Settings.from_env(EXTERNAL).embedded
