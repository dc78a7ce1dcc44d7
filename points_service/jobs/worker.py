"""The queue and its worker. The queue is SAQ's on the service's Redis; scheduled work is SAQ's cron,
which enqueues each tick under one key per name (`cron:<name>`), so however many workers offer a
tick, one job runs it. A job whose worker died (no heartbeat past `HEARTBEAT_SECONDS`, or taken and
never started) is swept back onto the queue by any live worker and runs again: the work keys its
effects so the second run does only what the first did not finish."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import CronJob, Job, Queue, Worker
from saq.queue.redis import RedisQueue

from points_service.database.session import create_engine, session_factory
from points_service.errors import database_unreachable
from points_service.jobs.work import JobContext, Work
from points_service.settings import Settings

logger = logging.getLogger(__name__)
QUEUE_NAME = "points"
# A running job proves itself alive this often; a job silent for HEARTBEAT_SECONDS is taken as dead.
TOUCH_EVERY_SECONDS = 10
HEARTBEAT_SECONDS = 60
# How long a page waits on the queue (handing over a sheet of up to 10 MiB included).
PAGE_TIMEOUT_SECONDS = 3
WORKER_POOL_SIZE = 4
REDIS_DOWN_PAUSE_SECONDS = 2
# Finished jobs stay readable (the console shows their outcome) for a day.
KEEP_FINISHED_SECONDS = 86_400


class OutagesInOneLine(logging.Filter):
    """SAQ logs every failed upkeep tick with a traceback, about once a second while Redis is away, and
    every job that failed with one, a sweep that ran while PostgreSQL restarted included: outages the
    service already reports (health, 503s), not bugs. One warning line each instead; the job runs
    again at its next turn."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and database_unreachable(error):
            self._one_line(record, f"the database is out of reach ({type(error).__name__})")
        elif isinstance(error, RedisError | OSError):
            self._one_line(record, f"the queue's Redis is out of reach ({error})")
        return True

    @staticmethod
    def _one_line(record: logging.LogRecord, why: str) -> None:
        record.msg, record.args = f"{record.getMessage()}: {why}", None
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"


logging.getLogger("saq").addFilter(OutagesInOneLine())


class PatientQueue(RedisQueue):
    """A worker's queue: SAQ takes the next job again at once after a failed take, which with Redis
    down spins on refused connections (a quarter of a core); this one pauses first."""

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:  # noqa: ASYNC109 (SAQ's signature)
        try:
            return await super().dequeue(timeout, poll_interval)
        except (RedisError, OSError):
            await asyncio.sleep(REDIS_DOWN_PAUSE_SECONDS)
            raise


def job_queue(redis_url: str, name: str = QUEUE_NAME, timeout_seconds: float | None = None) -> Queue:
    """The queue. Pages hand work over with a timeout (a hung Redis must not hold a request; they then
    do the work themselves); a worker waits on the queue without one."""
    if timeout_seconds is None:
        return PatientQueue(Redis.from_url(redis_url), name=name)
    client = Redis.from_url(redis_url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds)
    return RedisQueue(client, name=name)


async def close_queue(queue: Queue) -> None:
    """Closing says goodbye to Redis; with Redis gone there is no one to tell."""
    with contextlib.suppress(RedisError, OSError):
        await queue.disconnect()


def job_options(work: Work) -> dict[str, Any]:
    return {
        "timeout": work.timeout,
        "retries": work.retries,
        "heartbeat": HEARTBEAT_SECONDS,
        "ttl": KEEP_FINISHED_SECONDS,
    }


@asynccontextmanager
async def unless_unreachable() -> AsyncIterator[None]:
    """For a page that hands work to the queue: a queue it cannot reach (Redis down) is logged and
    the block left, so the caller does the work itself as it did before jobs."""
    try:
        yield
    except (RedisError, OSError):
        logger.warning("jobs: the queue is unreachable; doing the work in the request instead", exc_info=True)


async def enqueue(queue: Queue, work: Work, key: str | None = None, **kwargs: Any) -> Job | None:
    """Queue one job of `work`; with a `key`, a second enqueue while the first is unfinished is refused
    (None), so a form sent twice starts one job."""
    options = job_options(work)
    if key is not None:
        options["key"] = key
    return await queue.enqueue(work.name, **options, **kwargs)


async def enqueue_for_staff(
    queue: Queue, work: Work, key: str, tenant_id: uuid.UUID, account_id: uuid.UUID, **kwargs: Any
) -> str:
    """Queue a job a staff member started from the console; its key. The job runs as that staff member
    (jobs/work.py's `acting_staff`), and only they see it on the 后台任务 page."""
    await enqueue(queue, work, key=key, tenant_id=str(tenant_id), account_id=str(account_id), **kwargs)
    return key


def _as_job_function(work: Work) -> Any:
    @functools.wraps(work.run)
    async def run(ctx: dict[str, Any], **kwargs: Any) -> Any:
        context = JobContext(ctx["sessions"], ctx["settings"], ctx["job"])
        toucher = asyncio.create_task(_keep_touching(context))
        try:
            return await work.run(context, **kwargs)
        finally:
            toucher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await toucher

    # SAQ finds a job's function by this name.
    run.__qualname__ = work.name
    return run


async def _keep_touching(context: JobContext) -> None:
    while True:
        await asyncio.sleep(TOUCH_EVERY_SECONDS)
        await context.job.update()


class ServiceWorker(Worker):
    """Inside the service the server owns SIGINT and SIGTERM (and may run off the main thread); the
    worker ends with the app's lifespan instead."""

    SIGNALS = ()


def build_worker(
    queue: Queue, works: Sequence[Work], settings: Settings, concurrency: int = 4, own_signals: bool = False
) -> Worker:
    functions = {work.name: _as_job_function(work) for work in works}
    cron_jobs = [
        CronJob(functions[work.name], cron=work.cron, **job_options(work)) for work in works if work.cron is not None
    ]

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(settings.database_url or "", WORKER_POOL_SIZE, "red-points-worker")
        ctx.update(engine=engine, sessions=session_factory(engine), settings=settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["engine"].dispose()

    return (Worker if own_signals else ServiceWorker)(
        queue,
        functions=list(functions.values()),
        cron_jobs=cron_jobs,
        concurrency=concurrency,
        startup=startup,
        shutdown=shutdown,
        # Stuck jobs are looked for every 30 s rather than SAQ's 60.
        timers={"sweep": 30},
    )


@asynccontextmanager
async def running_worker(
    settings: Settings, works: Sequence[Work], queue_name: str = QUEUE_NAME
) -> AsyncIterator[Worker]:
    """A worker over the queue for the life of the block (the service's, when POINTS_WORKER=inside)."""
    queue = job_queue(settings.redis_url or "", queue_name)
    worker = build_worker(queue, works, settings)
    task = asyncio.create_task(worker.start())
    try:
        yield worker
    finally:
        await worker.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await close_queue(queue)
