"""Large console imports and exports as jobs: a confirmed sheet of more than `LARGE_IMPORT_ROWS` rows is written by
the job queue's worker, so the page answers at once and shows its progress (the console's 后台任务
page). The HTTP API's imports stay synchronous, as their contract says.

The file travels to the worker through Redis (an hour at most: the worker may run on another host);
the job acts as the staff member who confirmed it, with their reach as it is when the job runs. A
sheet that asks for new logins is not handed over: its temporary passwords are shown once, and a job's
result would keep them in Redis.

An export of more than `LARGE_EXPORT_ROWS` members is built by the worker too, its file kept in Redis
for an hour and fetched from the job's page; a retried export builds the file again and writes nothing.

A retried import (its worker died) runs the whole sheet again in one transaction: if the first attempt
had committed, every row now matches by phone and counts as unchanged, so nothing is written twice."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
from saq import Queue
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.errors import DomainError
from points_service.exports import csv_text, xlsx_bytes
from points_service.jobs import JobContext, Work
from points_service.jobs.work import acting_staff
from points_service.jobs.worker import enqueue_for_staff
from points_service.org.imports import MEMBER_COLUMNS, ImportInvalid, RosterImport
from points_service.org.models import Member, OrgUnit
from points_service.org.reach import Subtree
from points_service.org.service import OrgService
from points_service.org.sheets import read_sheet

LARGE_IMPORT_ROWS = 2000
LARGE_EXPORT_ROWS = 2000
FILE_SECONDS = 3600


def _file_key(job_key: str) -> str:
    return f"job-file:{job_key}"


async def job_file(queue: Queue, job_key: str) -> bytes | None:
    """An export job's file, while it is kept."""
    return await queue.redis.get(_file_key(job_key))  # type: ignore[attr-defined, no-any-return]


async def run_roster_import(
    job: JobContext,
    tenant_id: str,
    account_id: str,
    kind: str,
    unit: str | None,
    filename: str,
) -> dict[str, Any]:
    redis = job.job.get_queue().redis  # type: ignore[attr-defined]
    content = await redis.get(_file_key(job.job.key))
    if content is None:
        return {"outcome": "file_gone"}
    sheet = await anyio.to_thread.run_sync(read_sheet, content, filename)
    await job.progress(0, len(sheet.rows), stage="writing")
    try:
        async with job.sessions() as session, session.begin():
            staff = await acting_staff(session, tenant_id, account_id)
            if staff is None:
                return {"outcome": "refused", "code": "account_inactive"}
            roster = RosterImport(session, staff, OrgService(session, staff), progress=job.progress)
            base = uuid.UUID(unit) if unit else None
            if kind == "units":
                outcome = await roster.import_units(sheet, base, False)
            else:
                outcome = await roster.import_members(sheet, base, False, False)
    except ImportInvalid as invalid:
        # Rows that passed the dry run may clash with what changed since: told as the dry run tells them.
        return {"outcome": "errors", "errors": list(invalid.extra["errors"])}
    except DomainError as error:
        return {"outcome": "refused", "code": error.code}
    await redis.delete(_file_key(job.job.key))
    counts = {"rows": outcome.rows, "created": outcome.created, "updated": outcome.updated}
    return {"outcome": "done", **counts, "unchanged": outcome.unchanged}


ROSTER_IMPORT = Work("roster_import", run_roster_import, timeout=1800)


async def hand_over(
    queue: Queue,
    staff_tenant: uuid.UUID,
    staff_account: uuid.UUID,
    kind: str,
    unit: uuid.UUID | None,
    content: bytes,
    filename: str,
) -> str:
    """Queue the confirmed import; the job's key, which the console's job page shows."""
    key = f"import-{uuid.uuid4().hex}"
    await queue.redis.set(_file_key(key), content, ex=FILE_SECONDS)  # type: ignore[attr-defined]
    return await enqueue_for_staff(
        queue,
        ROSTER_IMPORT,
        key,
        staff_tenant,
        staff_account,
        kind=kind,
        unit=str(unit) if unit else None,
        filename=filename,
    )


async def members_under(session: AsyncSession, staff: Principal, unit_path: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Member)
        .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
        .where(Member.tenant_id == staff.tenant_id, Subtree(unit_path).clause(OrgUnit.path))
    )
    return int(count or 0)


def member_sheet(format: str, rows: list[list[object]]) -> bytes:
    return csv_text(MEMBER_COLUMNS, rows).encode() if format == "csv" else xlsx_bytes("成员", MEMBER_COLUMNS, rows)


async def run_member_export(job: JobContext, tenant_id: str, account_id: str, unit: str, format: str) -> dict[str, Any]:
    await job.progress(0, 1, stage="reading")
    try:
        async with job.sessions() as session, session.begin():
            staff = await acting_staff(session, tenant_id, account_id)
            if staff is None:
                return {"outcome": "refused", "code": "account_inactive"}
            roster = RosterImport(session, staff, OrgService(session, staff))
            shown, rows = await roster.export_members(uuid.UUID(unit))
    except DomainError as error:
        return {"outcome": "refused", "code": error.code}
    content = await anyio.to_thread.run_sync(member_sheet, format, rows)
    await job.job.get_queue().redis.set(_file_key(job.job.key), content, ex=FILE_SECONDS)  # type: ignore[attr-defined]
    return {"outcome": "done", "rows": len(rows), "filename": f"members-{shown.id.hex[:8]}.{format}"}


MEMBER_EXPORT = Work("member_export", run_member_export, timeout=1800)


async def hand_over_export(queue: Queue, staff: Principal, unit: uuid.UUID, format: str) -> str:
    """Queue the export; the job's key. A second request while it is being built finds the first."""
    key = f"export-{unit.hex}-{format}-{staff.account_id.hex}"
    return await enqueue_for_staff(
        queue, MEMBER_EXPORT, key, staff.tenant_id, staff.account_id, unit=str(unit), format=format
    )
