"""A job's overhead against running the same work inline: the daily early warnings of a district (the
district demo's tenant: its members, activities, shifts and registrations), run by calling the work
directly and run as a job on the queue (enqueued, taken by a worker in this process, its result
read back), alternately, the day's stored run removed between runs so each stores it afresh.

    .venv/bin/python bench/jobs.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench \
        --redis-url redis://127.0.0.1:6379/5 [--members 8000] [--small] [--repeats 5]

The district demo is loaded first unless the database holds it already (`--small`: a district of 8
communities, for a quick look). Without the URLs the embedded PostgreSQL and Valkey start in a
temporary folder. Prints the medians and their ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import delete, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from admin.warnings.daily import DAILY_WARNINGS, run_due
from admin.warnings.models import WarningItem, WarningRun
from points_service.app import all_work
from points_service.auth.models import LoginAccount
from points_service.database.migrate import upgrade
from points_service.database.session import create_engine, session_factory
from points_service.district_demo import DistrictFigures, load_district, no_progress
from points_service.jobs.worker import enqueue, running_worker
from points_service.settings import Settings

SMALL = DistrictFigures(
    communities=8, areas=24, buildings=80, registered=900, took_part=700, reports=100, handled=90, wishes_claimed=300
)
MIDNIGHT = clock_time(0, 0)


async def forget_today(sessions, tenant_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    async with sessions() as session, session.begin():
        await session.execute(delete(WarningItem).where(WarningItem.tenant_id == tenant_id))
        await session.execute(delete(WarningRun).where(WarningRun.tenant_id == tenant_id))


async def run(database_url: str, redis_url: str, members: int, small: bool, repeats: int) -> None:
    engine = create_engine(database_url, pool_size=4)
    sessions = session_factory(engine)
    try:
        started = time.monotonic()
        loaded = await load_district(sessions, members, no_progress, SMALL if small else DistrictFigures())
        print(f"district: {loaded if isinstance(loaded, str) else 'loaded'} ({time.monotonic() - started:.0f} s)")
        async with sessions() as session:
            tenant_id = await session.scalar(
                select(LoginAccount.tenant_id).where(func.lower(LoginAccount.username) == "district-admin")
            )
        assert tenant_id is not None
        settings = Settings(database_url=database_url, redis_url=redis_url, daily_warnings_at=MIDNIGHT)
        inline: list[float] = []
        as_job: list[float] = []
        findings = 0
        async with running_worker(settings, all_work(), f"bench-{uuid.uuid4().hex[:8]}") as worker:
            for _ in range(repeats):
                await forget_today(sessions, tenant_id)
                mark = time.perf_counter()
                due = await run_due(sessions, MIDNIGHT, datetime.now(UTC), [tenant_id])
                inline.append(time.perf_counter() - mark)
                findings = due.stored[0][1].item_count
                await forget_today(sessions, tenant_id)
                mark = time.perf_counter()
                job = await enqueue(worker.queue, DAILY_WARNINGS, tenant_ids=[str(tenant_id)])
                assert job is not None
                await job.refresh(until_complete=0)
                as_job.append(time.perf_counter() - mark)
                assert job.result == {"stored": 1, "failed": 0}, job.result
        inline_ms, job_ms = statistics.median(inline) * 1000, statistics.median(as_job) * 1000
        print(f"daily warnings of the district ({findings} findings), median of {repeats}:")
        print(f"  inline      {inline_ms:8.1f} ms")
        print(f"  as a job    {job_ms:8.1f} ms  (enqueue, a worker takes it, result read back)")
        print(f"  overhead    {job_ms - inline_ms:8.1f} ms  ratio job/inline {job_ms / inline_ms:.3f}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--members", type=int, default=8000)
    parser.add_argument("--small", action="store_true", help="a district of 8 communities, for a quick look")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url, redis_url = args.database_url, args.redis_url
        if not database_url or not redis_url:
            from points_service.embedded import embedded_services

            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-jobs-"))
            embedded = stack.enter_context(embedded_services(Path(folder), database_name="bench_jobs"))
            database_url = database_url or embedded.database_url
            redis_url = redis_url or embedded.redis_url
        upgrade(database_url)
        asyncio.run(run(database_url, redis_url, args.members, args.small, args.repeats))


if __name__ == "__main__":
    main()
