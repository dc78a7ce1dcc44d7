"""What a package declares to run as a job, and what a job is handed when it runs."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from saq import Job
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.auth.service import principal_of
from points_service.settings import Settings


@dataclass(frozen=True)
class JobContext:
    """The worker's own small pool (a long job never takes the requests' connections), the settings,
    and the queue's record of the job, where it reports its progress."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    job: Job

    async def progress(self, done: int, total: int, **meta: Any) -> None:
        """Shown on the console while the job runs; each report also proves the job alive (its
        heartbeat), so a job whose worker died is found and retried."""
        await self.job.update(progress=done / total if total else 1.0, meta={"done": done, "total": total, **meta})


async def acting_staff(session: AsyncSession, tenant_id: str, account_id: str) -> Principal | None:
    """The staff member a job acts for, as their account stands when it runs (None: gone or switched
    off since they started it), so the job reaches what they reach then."""
    account = await session.scalar(
        select(LoginAccount).where(
            LoginAccount.tenant_id == uuid.UUID(tenant_id), LoginAccount.id == uuid.UUID(account_id)
        )
    )
    return principal_of(account) if account is not None and account.is_active else None


@dataclass(frozen=True)
class Work:
    """A kind of job. `cron` (UTC, croniter syntax) makes it scheduled work: every worker offers the
    tick, the queue keeps one job per name, so N processes run it once. `retries` counts runs in all;
    a job may run again after its worker died mid-way, so its effect must be keyed (a unique row, a
    ledger source) and a second run find its work done."""

    name: str
    run: Callable[..., Awaitable[Any]]
    cron: str | None = None
    timeout: int = 600
    retries: int = 3
