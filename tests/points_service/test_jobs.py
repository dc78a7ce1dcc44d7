"""The job queue: scheduled work offered by many workers runs once per tick; the service runs the
worker inside itself by default; a job whose worker died is swept back and runs again without doing
twice what it had done (the daily warnings, keyed per tenant and day); sealing twice seals a day once."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import time, timedelta

import pytest
from saq import Status
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.warnings.daily import DAILY_WARNINGS, DailyWarnings
from admin.warnings.models import WarningRun
from merchants.redemptions.sweep import REDEMPTION_SWEEP
from points_service.app import all_work
from points_service.bootstrap import create_tenant
from points_service.database.session import create_engine, session_factory
from points_service.jobs.worker import build_worker, enqueue, job_queue, running_worker
from points_service.ledger.seals import seal_finished_days
from points_service.settings import Settings, SettingsError
from points_service.tenancy.periods import TenantClock
from tests.conftest import Community, ServedApp, Services, settings_for, unique

Sessions = async_sessionmaker[AsyncSession]


def warnings_due_at_midnight(services: Services) -> Settings:
    return settings_for(services, daily_warnings_at=time(0, 0))


async def runs_of(sessions: Sessions, tenant_id: uuid.UUID) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(WarningRun).where(WarningRun.tenant_id == tenant_id)
        )
    return int(count or 0)


async def test_a_scheduled_tick_offered_by_many_workers_is_one_job(services: Services) -> None:
    queue = job_queue(services.redis_url, unique("jobs"))
    scheduled = [work for work in all_work() if work.cron]
    try:
        # Three processes' workers each offer the same ticks, twice over.
        for _ in range(2):
            for worker in [build_worker(queue, all_work(), settings_for(services)) for _ in range(3)]:
                await worker.schedule()
        assert {work.name for work in scheduled} == {"daily_warnings", "daily_seals", "redemption_sweep", "stock_sweep"}
        assert await queue.count("incomplete") == len(scheduled)
    finally:
        await queue.disconnect()


async def test_the_service_runs_the_jobs_inside_itself(served: ServedApp, services: Services) -> None:
    # `served` is the app as `points-service serve` builds it by default (POINTS_WORKER=inside).
    assert settings_for(services).worker == "inside"
    queue = job_queue(services.redis_url)
    try:
        job = await enqueue(queue, REDEMPTION_SWEEP)
        assert job is not None
        # A worker starting up may take a job just taken by another for dead and run it again (SAQ's
        # sweep), so wait for the last run's end.
        await job.refresh(until_complete=60)
        while job.status != Status.COMPLETE:
            await job.refresh(until_complete=60)
        assert set(job.result) == {"expired", "reminded"}
    finally:
        await queue.disconnect()


async def test_the_daily_warnings_job_run_twice_stores_the_day_once(
    community: Community, services: Services, sessions: Sessions
) -> None:
    tenants = [str(community.tenant_id)]
    async with running_worker(warnings_due_at_midnight(services), all_work(), unique("jobs")) as worker:
        first = await enqueue(worker.queue, DAILY_WARNINGS, tenant_ids=tenants)
        assert first is not None
        await first.refresh(until_complete=60)
        while first.status != Status.COMPLETE:
            await first.refresh(until_complete=60)
        second = await enqueue(worker.queue, DAILY_WARNINGS, tenant_ids=tenants)
        assert second is not None
        await second.refresh(until_complete=60)
        while second.status != Status.COMPLETE:
            await second.refresh(until_complete=60)
    # The day is stored once; the first job says 0 only if a starting worker's sweep ran it twice (SAQ).
    assert first.result["failed"] == 0 and second.result == {"stored": 0, "failed": 0}
    assert await runs_of(sessions, community.tenant_id) == 1


async def test_a_job_whose_worker_died_runs_again_without_doing_its_work_twice(
    community: Community, services: Services, sessions: Sessions
) -> None:
    async with sessions() as session, session.begin():
        other = await create_tenant(session, unique("街道"))
    queue = job_queue(services.redis_url, unique("jobs"))
    try:
        job = await enqueue(queue, DAILY_WARNINGS, tenant_ids=[str(community.tenant_id), str(other.id)])
        assert job is not None
        # A worker takes the job, commits the first tenant's day and dies before it can say so.
        assert await queue.dequeue() is not None
        async with sessions() as session, session.begin():
            await DailyWarnings(session, community.tenant_id).run_day(TenantClock("Asia/Shanghai").today())
    finally:
        await queue.disconnect()
    # A live worker sweeps the dead one's job back onto the queue and runs it.
    async with running_worker(warnings_due_at_midnight(services), all_work(), queue.name) as worker:
        await job.refresh(until_complete=60)
        while job.status != Status.COMPLETE:
            await job.refresh(until_complete=60)
        assert worker.queue.name == queue.name
    assert job.result == {"stored": 1, "failed": 0}
    assert await runs_of(sessions, community.tenant_id) == 1
    assert await runs_of(sessions, other.id) == 1


async def test_sealing_twice_seals_a_day_once(community: Community, sessions: Sessions) -> None:
    member = await community.member(await community.org_unit("一社区"))
    rule = await community.rule()
    assert (await community.award(member["id"], rule)).status_code in (200, 201)
    until = TenantClock("Asia/Shanghai").today() + timedelta(days=2)
    async with sessions() as session, session.begin():
        first = await seal_finished_days(session, until, community.tenant_id)
    async with sessions() as session, session.begin():
        second = await seal_finished_days(session, until, community.tenant_id)
    assert (first, second) == (1, 0)


def test_the_worker_runs_inside_the_service_or_apart() -> None:
    assert Settings.from_env({}).worker == "inside"
    assert Settings.from_env({"POINTS_WORKER": "apart"}).worker == "apart"
    try:
        Settings.from_env({"POINTS_WORKER": "elsewhere"})
    except SettingsError as error:
        assert "POINTS_WORKER" in str(error)
    else:
        raise AssertionError("an unknown place for the worker was accepted")


async def test_a_worker_without_its_redis_logs_one_line_per_failure_not_a_traceback(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="saq")
    # Nothing listens on port 1: every upkeep tick and take fails as with Redis down.
    settings = settings_for(Services(services.database_url, "redis://127.0.0.1:1/0"))
    async with running_worker(settings, all_work(), unique("away")):
        await asyncio.sleep(2.5)
    saq_records = [record for record in caplog.records if record.name == "saq"]
    assert any("out of reach" in record.getMessage() for record in saq_records)
    assert [record.getMessage() for record in saq_records if record.exc_info] == []


async def test_a_job_failing_while_the_database_is_away_logs_one_line_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sweep that ran while PostgreSQL restarted failed as the requests did (503s): an outage, not a bug.
    SAQ logs a failed job with its traceback; the worker's filter makes it one warning line."""
    caplog.set_level(logging.WARNING, logger="saq")
    # Nothing listens on port 1: the job's session fails as with PostgreSQL down.
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", pool_size=1)
    try:
        async with session_factory(engine)() as session:
            await session.execute(select(func.now()))
    except Exception:
        logging.getLogger("saq").exception("Error processing job Job<function: stock_sweep>")
    finally:
        await engine.dispose()

    (record,) = [record for record in caplog.records if record.name == "saq"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert "the database is out of reach" in record.getMessage()
