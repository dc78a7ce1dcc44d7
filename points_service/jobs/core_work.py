"""The core's scheduled work: sealing finished days of the ledger (the digest a 公示 sheet prints)."""

from __future__ import annotations

from datetime import timedelta

from points_service.jobs.work import JobContext, Work
from points_service.ledger.seals import seal_finished_days
from points_service.tenancy.periods import TenantClock


async def seal_days(job: JobContext) -> dict[str, int]:
    # A day is finished everywhere once it is over in the earliest time zone's yesterday.
    until = TenantClock("Pacific/Kiritimati").today() - timedelta(days=1)
    async with job.sessions() as session, session.begin():
        return {"sealed": await seal_finished_days(session, until)}


DAILY_SEALS = Work("daily_seals", seal_days, cron="7 * * * *")
CORE_WORK = (DAILY_SEALS,)
