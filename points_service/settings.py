"""One typed settings object, read from the environment once, at start-up."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the service refuses to start rather than guess."""


def daily_warnings_at(value: str) -> time | None:
    if value.strip().lower() == "off":
        return None
    try:
        return time.fromisoformat(value.strip())
    except ValueError as error:
        raise SettingsError("POINTS_DAILY_WARNINGS_AT is a local time such as 01:00, or off") from error


def hashing_threads(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 32:
        raise SettingsError("POINTS_PASSWORD_HASHING_THREADS is a whole number from 1 to 32")
    return int(value)


def trusted_proxies(value: str) -> tuple[str, ...]:
    """Addresses and networks (CIDR) whose X-Forwarded-For and X-Forwarded-Proto are believed."""
    entries = tuple(entry.strip() for entry in value.split(",") if entry.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as error:
            raise SettingsError(
                f"POINTS_TRUSTED_PROXIES lists addresses or networks such as 10.0.0.5,10.1.0.0/16; {entry!r} is neither"
            ) from error
    return entries


def switched_on(value: str, name: str) -> bool:
    answer = value.strip().lower()
    if answer in {"on", "true", "1", "yes"}:
        return True
    if answer in {"off", "false", "0", "no"}:
        return False
    raise SettingsError(f"{name} is on or off")


def worker_place(value: str) -> str:
    if value not in ("inside", "apart"):
        raise SettingsError("POINTS_WORKER is inside (the service runs the jobs) or apart (`points-service worker`)")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path(".data"))
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str | None = None
    jwt_issuer: str = "red-points"
    jwt_audience: str = "red-points-api"
    access_token_seconds: int = 900
    refresh_token_days: int = 30
    admin_username: str | None = None
    admin_password: str | None = None
    tenant_name: str = "演示街道"
    default_timezone: str = "Asia/Shanghai"
    max_body_bytes: int = 1_048_576
    database_pool_size: int = 20
    database_application_name: str = "red-points"
    # The tenant-local time after which each day's early warnings run (None: not by the API processes).
    daily_warnings_at: time | None = time(1, 0)
    # Metrics at /metrics, request ids and the access log (POINTS_METRICS=off turns them off, to
    # measure what they cost: bench/run.py, docs/operations.md).
    observe_requests: bool = True
    # Where pg_dump and pg_restore of the server's major version live, when not found by themselves
    # (POINTS_PG_BIN; points_service/backups.py).
    pg_bin: Path | None = None
    # Argon2 computations at once per process (64 MiB each); more logins than this wait their turn.
    password_hashing_threads: int = 2
    # Where problem reports' photos are kept; None: `report_photos` under the data folder.
    report_photos_dir: Path | None = None
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR
    # networks): the client address the login limits count and the scheme that makes cookies Secure.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # Every cookie Secure even over plain http (POINTS_SECURE_COOKIES): behind a TLS terminator whose
    # X-Forwarded-Proto is not believed. Over https cookies are Secure anyway.
    secure_cookies: bool = False
    # The API's documentation pages, /schema (Redoc) and /schema/swagger (POINTS_API_DOCS=off: only the
    # document itself, /schema/openapi.json).
    api_docs: bool = True
    # Where the job queue's worker runs (points_service/jobs/): `inside` the service (one per
    # `points-service serve`), or `apart`, as `points-service worker` processes of their own.
    worker: str = "inside"

    @property
    def report_photos(self) -> Path:
        return self.report_photos_dir or self.data_dir / "report_photos"

    @property
    def embedded(self) -> bool:
        return self.database_url is None or self.redis_url is None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        access_seconds = int(env.get("POINTS_ACCESS_TOKEN_SECONDS", "900"))
        if not 60 <= access_seconds <= 900:
            raise SettingsError("POINTS_ACCESS_TOKEN_SECONDS must be between 60 and 900 (15 minutes at most)")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("POINTS_DATA_DIR") or ".data"),
            host=env.get("POINTS_HOST") or "127.0.0.1",
            port=int(env.get("POINTS_PORT") or "8000"),
            jwt_secret=env.get("POINTS_JWT_SECRET") or None,
            access_token_seconds=access_seconds,
            admin_username=env.get("POINTS_ADMIN_USERNAME") or None,
            admin_password=env.get("POINTS_ADMIN_PASSWORD") or None,
            tenant_name=env.get("POINTS_TENANT_NAME") or "演示街道",
            database_pool_size=int(env.get("POINTS_DATABASE_POOL_SIZE") or "20"),
            daily_warnings_at=daily_warnings_at(env.get("POINTS_DAILY_WARNINGS_AT") or "01:00"),
            observe_requests=switched_on(env.get("POINTS_METRICS") or "on", "POINTS_METRICS"),
            report_photos_dir=Path(env["POINTS_REPORT_PHOTOS_DIR"]) if env.get("POINTS_REPORT_PHOTOS_DIR") else None,
            pg_bin=Path(env["POINTS_PG_BIN"]).expanduser() if env.get("POINTS_PG_BIN") else None,
            password_hashing_threads=hashing_threads(env.get("POINTS_PASSWORD_HASHING_THREADS") or "2"),
            trusted_proxies=trusted_proxies(env.get("POINTS_TRUSTED_PROXIES") or "127.0.0.1,::1"),
            api_docs=switched_on(env.get("POINTS_API_DOCS") or "on", "POINTS_API_DOCS"),
            secure_cookies=switched_on(env.get("POINTS_SECURE_COOKIES") or "off", "POINTS_SECURE_COOKIES"),
            worker=worker_place(env.get("POINTS_WORKER") or "inside"),
        )

    def with_services(self, database_url: str, redis_url: str) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    def with_jwt_secret(self) -> Settings:
        """Resolve the signing secret: required with external services, generated once when embedded."""
        if self.jwt_secret:
            if len(self.jwt_secret) < 32:
                raise SettingsError("POINTS_JWT_SECRET must be at least 32 characters")
            return self
        if not self.embedded_data_owned:
            raise SettingsError("POINTS_JWT_SECRET is required when DATABASE_URL/REDIS_URL point at external services")
        secret_file = self.data_dir / "jwt_secret"
        if not secret_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secrets.token_urlsafe(48))
            secret_file.chmod(0o600)
        return replace(self, jwt_secret=secret_file.read_text().strip())

    # Set by the embedded launcher: the service URLs point at servers whose data lives in data_dir.
    embedded_data_owned: bool = False
