"""Large console imports as jobs: a confirmed sheet of more than `LARGE_IMPORT_ROWS` rows is written by
the job queue's worker, so the page answers at once and shows its progress (the console's 后台任务
page). The HTTP API's imports stay synchronous, as their contract says.

The file travels to the worker through Redis (an hour at most: the worker may run on another host);
the job acts as the staff member who confirmed it, with their reach as it is when the job runs. A
sheet that asks for new logins is not handed over: its temporary passwords are shown once, and a job's
result would keep them in Redis.

A retried import (its worker died) runs the whole sheet again in one transaction: if the first attempt
had committed, every row now matches by phone and counts as unchanged, so nothing is written twice."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
from saq import Queue
from sqlalchemy import select

from points_service.auth.models import LoginAccount
from points_service.auth.service import principal_of
from points_service.errors import DomainError
from points_service.jobs import JobContext, Work
from points_service.jobs.worker import enqueue
from points_service.org.imports import ImportInvalid, RosterImport
from points_service.org.service import OrgService
from points_service.org.sheets import read_sheet

LARGE_IMPORT_ROWS = 2000
FILE_SECONDS = 3600


def _file_key(job_key: str) -> str:
    return f"import-file:{job_key}"


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
            account = await session.scalar(
                select(LoginAccount).where(
                    LoginAccount.tenant_id == uuid.UUID(tenant_id), LoginAccount.id == uuid.UUID(account_id)
                )
            )
            if account is None or not account.is_active:
                return {"outcome": "refused", "code": "account_inactive"}
            staff = principal_of(account)
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
    job = await enqueue(
        queue,
        ROSTER_IMPORT,
        key=key,
        tenant_id=str(staff_tenant),
        account_id=str(staff_account),
        kind=kind,
        unit=str(unit) if unit else None,
        filename=filename,
    )
    assert job is not None, "a new key is never taken"
    return key
