"""The daily early-warning run (预警日报): once per tenant and tenant-local day, the checks of
admin/warnings/service.py over the whole tenant, stored, so staff open the morning's findings without
waiting for them and a run can be looked back on.

A scheduled job (`DAILY_WARNINGS`, every 5 minutes on the job queue, one job per tick whatever the
number of processes) runs each tenant's day once the tenant's clock has passed
`POINTS_DAILY_WARNINGS_AT`, and `points-service warnings run` does the same from cron. They cannot run
the same day twice: the run row's unique (tenant_id, run_date) is inserted first, in the transaction that
stores the findings; a second inserter waits for that transaction and then finds the day taken (or, if
it rolled back, runs the day itself). So a job retried after its worker died mid-way runs only the
tenants the first attempt did not commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.warnings.models import WARNING_KINDS, WarningItem, WarningRun, WarningSettings
from admin.warnings.service import Finding, Thresholds, WarningCheck, as_checks, findings
from points_service.duty.reminders import tell_tomorrows_shifts
from points_service.jobs import JobContext, Work
from points_service.org.models import OrgUnit
from points_service.org.reach import Subtree
from points_service.tenancy.models import Tenant

logger = logging.getLogger(__name__)
# Findings are kept for a month of runs; the run rows themselves (date, thresholds, count) stay.
KEEP_FINDINGS_DAYS = 31
INSERT_BATCH = 5000


@dataclass(frozen=True)
class StoredRun:
    run: WarningRun
    thresholds: Thresholds
    checks: list[WarningCheck]


def thresholds_of(row: WarningSettings | WarningRun | None) -> Thresholds:
    if row is None:
        return Thresholds()
    return Thresholds(row.inactive_days, float(row.attendance_below), row.duty_days)


class DailyWarnings:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id

    async def thresholds(self) -> Thresholds:
        return thresholds_of(
            await self._session.scalar(select(WarningSettings).where(WarningSettings.tenant_id == self._tenant_id))
        )

    async def set_thresholds(self, thresholds: Thresholds) -> Thresholds:
        values = {
            "inactive_days": thresholds.inactive_days,
            "attendance_below": Decimal(str(round(thresholds.attendance_below, 2))),
            "duty_days": thresholds.duty_days,
        }
        await self._session.execute(
            pg_insert(WarningSettings)
            .values(tenant_id=self._tenant_id, **values)
            .on_conflict_do_update(index_elements=["tenant_id"], set_={**values, "updated_at": func.now()})
        )
        return await self.thresholds()

    async def run_day(self, day: date) -> WarningRun | None:
        """Store the day's run; None when it is already stored (by this or any other process)."""
        taken = await self._session.scalar(
            select(WarningRun.id).where(WarningRun.tenant_id == self._tenant_id, WarningRun.run_date == day)
        )
        if taken is not None:
            return None
        thresholds = await self.thresholds()
        run_id = await self._session.scalar(
            pg_insert(WarningRun)
            .values(
                tenant_id=self._tenant_id,
                id=uuid.uuid4(),
                run_date=day,
                inactive_days=thresholds.inactive_days,
                attendance_below=Decimal(str(thresholds.attendance_below)),
                duty_days=thresholds.duty_days,
                item_count=0,
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "run_date"])
            .returning(WarningRun.id)
        )
        if run_id is None:
            return None
        found = await findings(self._session, self._tenant_id, "", thresholds, day)
        rows = [
            {
                "tenant_id": self._tenant_id,
                "id": uuid.uuid4(),
                "run_id": run_id,
                "kind": kind,
                "position": position,
                "path": finding.path,
                "item": finding.item,
            }
            for kind in WARNING_KINDS
            for position, finding in enumerate(found[kind])
        ]
        for start in range(0, len(rows), INSERT_BATCH):
            await self._session.execute(insert(WarningItem), rows[start : start + INSERT_BATCH])
        await self._forget_old_findings(day)
        # Once a day per tenant, so the members' "on duty tomorrow" messages ride along with the run.
        await tell_tomorrows_shifts(self._session, self._tenant_id, day)
        run = await self._session.scalar(
            update(WarningRun)
            .where(WarningRun.tenant_id == self._tenant_id, WarningRun.id == run_id)
            .values(item_count=len(rows), finished_at=func.now())
            .returning(WarningRun)
        )
        assert run is not None
        return run

    async def _forget_old_findings(self, day: date) -> None:
        old_runs = select(WarningRun.id).where(
            WarningRun.tenant_id == self._tenant_id, WarningRun.run_date < day - timedelta(days=KEEP_FINDINGS_DAYS)
        )
        await self._session.execute(
            delete(WarningItem).where(WarningItem.tenant_id == self._tenant_id, WarningItem.run_id.in_(old_runs))
        )

    async def latest(self, unit: OrgUnit, children: list[OrgUnit]) -> StoredRun | None:
        """The newest stored run, read for one subtree: only findings under `unit`, counted per child."""
        run = await self._session.scalar(
            select(WarningRun)
            .where(WarningRun.tenant_id == self._tenant_id, WarningRun.finished_at.is_not(None))
            .order_by(WarningRun.run_date.desc())
            .limit(1)
        )
        if run is None:
            return None
        rows = await self._session.execute(
            select(WarningItem.kind, WarningItem.path, WarningItem.item)
            .where(WarningItem.tenant_id == self._tenant_id, WarningItem.run_id == run.id)
            .where(Subtree(unit.path).clause(WarningItem.path))
            .order_by(WarningItem.kind, WarningItem.position)
        )
        found: dict[str, list[Finding]] = {}
        for kind, path, item in rows:
            found.setdefault(kind, []).append(Finding(path, item))
        thresholds = thresholds_of(run)
        return StoredRun(run, thresholds, as_checks(found, children, thresholds))


@dataclass
class DueRuns:
    stored: list[tuple[uuid.UUID, WarningRun]] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)


async def run_due(
    sessions: async_sessionmaker[AsyncSession],
    at: time | None,
    now: datetime,
    tenant_ids: list[uuid.UUID] | None = None,
) -> DueRuns:
    """Run today's warnings for every tenant (or those named) whose local clock has passed `at` (None:
    any time of day) and whose day is not stored yet. Each tenant commits on its own, and one tenant's
    failure is logged and leaves the others to run."""
    async with sessions() as session:
        statement = select(Tenant.id, Tenant.timezone).order_by(Tenant.id)
        if tenant_ids is not None:
            statement = statement.where(Tenant.id.in_(tenant_ids))
        tenants = list(await session.execute(statement))
    due = DueRuns()
    for tenant_id, timezone in tenants:
        try:
            local = now.astimezone(ZoneInfo(timezone))
            if at is not None and local.time() < at:
                continue
            async with sessions() as session, session.begin():
                run = await DailyWarnings(session, tenant_id).run_day(local.date())
        except Exception:
            logger.exception("warnings: the daily run of tenant %s failed", tenant_id)
            due.failed.append(tenant_id)
            continue
        if run is not None:
            due.stored.append((tenant_id, run))
    return due


async def run_due_job(job: JobContext, tenant_ids: list[str] | None = None) -> dict[str, int]:
    """The scheduled job: today's runs due by POINTS_DAILY_WARNINGS_AT (none when it is off), for every
    tenant or those named."""
    at = job.settings.daily_warnings_at
    if at is None:
        return {"stored": 0, "failed": 0}
    named = None if tenant_ids is None else [uuid.UUID(tenant_id) for tenant_id in tenant_ids]
    due = await run_due(job.sessions, at, datetime.now(UTC), named)
    for tenant_id, run in due.stored:
        logger.info("warnings: stored %s's run of %s (%d findings)", tenant_id, run.run_date, run.item_count)
    return {"stored": len(due.stored), "failed": len(due.failed)}


# A failed tenant is tried again at the next tick, so the job itself needs no retry of its own for it.
DAILY_WARNINGS = Work("daily_warnings", run_due_job, cron="*/5 * * * *")
