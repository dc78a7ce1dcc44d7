"""The service's Prometheus metrics (docs/operations.md, "Metrics", says what each means).

The metric objects are prometheus-client's process-wide registry, as its documentation has them:
code anywhere counts without being handed a registry. With several worker processes
(`points-service serve --workers N`) `serve` sets PROMETHEUS_MULTIPROC_DIR before the workers start,
each worker writes its values to files there and /metrics adds up every worker's.

No label holds personal data: routes are path templates (`/api/v1/admin/members/{member_id}/ledger`), never
the path asked for.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

from litestar import Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

# Seconds: fast reads answer in about a millisecond, awards in a few, a district's export in seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Items per group-commit batch; GroupCommit writes at most 64 at once.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
POOL_SAMPLE_SECONDS = 1.0

REQUESTS = Counter(
    "points_http_requests", "Requests answered, by method, route and status", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "points_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method, route and status",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    "points_group_commit_batch_size",
    "Items written in one transaction by a group commit (awards, redemptions)",
    ["batcher"],
    buckets=BATCH_BUCKETS,
)
POOL_CHECKED_OUT = Gauge(
    "points_db_pool_checked_out",
    "Database connections in use, sampled every second, summed over live worker processes",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "points_db_pool_capacity",
    "Connections a pool may open, summed over live worker processes",
    ["pool"],
    multiprocess_mode="livesum",
)
REDIS_FALLBACKS = Counter(
    "points_redis_fallbacks",
    "Times work went on without Redis because it was unreachable, by where",
    ["where"],
)
LEDGER_POSTINGS = Counter("points_ledger_postings", "Ledger transactions committed, by kind", ["kind"])


def count_redis_fallback(where: str) -> None:
    REDIS_FALLBACKS.labels(where).inc()


async def count_postings(kinds: list[str]) -> None:
    """Queued after the commit of the transaction that wrote them, so a rollback counts nothing."""
    for kind in kinds:
        LEDGER_POSTINGS.labels(kind).inc()


@get("/metrics", include_in_schema=False, sync_to_thread=False)
def metrics() -> Response[bytes]:
    """Prometheus's text format; every worker's values when several share a multiprocess directory."""
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def prepare_multiprocess_directory(directory: Path) -> None:
    """For workers started after this call: an empty directory, since files left by an earlier run
    would be added to this one's values (prometheus-client's documentation asks for a fresh one)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIRECTORY] = str(directory)


class SizedPool(Protocol):
    """What the sampler reads of the hot-read pool (database/reads.py)."""

    def get_max_size(self) -> int: ...
    def get_size(self) -> int: ...
    def get_idle_size(self) -> int: ...


async def sample_pools(engine: AsyncEngine, request_capacity: int, read_pool: SizedPool) -> None:
    """Pool usage, sampled rather than counted at each checkout so the request path pays nothing."""
    request_pool = engine.sync_engine.pool
    assert isinstance(request_pool, QueuePool), "the request pool is a queue pool (database/session.py)"
    POOL_CAPACITY.labels("request").set(request_capacity)
    POOL_CAPACITY.labels("read").set(read_pool.get_max_size())
    request_in_use = POOL_CHECKED_OUT.labels("request")
    read_in_use = POOL_CHECKED_OUT.labels("read")
    while True:
        request_in_use.set(request_pool.checkedout())
        read_in_use.set(read_pool.get_size() - read_pool.get_idle_size())
        await asyncio.sleep(POOL_SAMPLE_SECONDS)


@asynccontextmanager
async def sampling_pools(engine: AsyncEngine, request_capacity: int, read_pool: SizedPool) -> AsyncIterator[None]:
    task = asyncio.create_task(sample_pools(engine, request_capacity, read_pool))
    try:
        yield
    finally:
        task.cancel()
        if os.environ.get(MULTIPROCESS_DIRECTORY):
            # A gone worker's gauges leave the sums; its counters stay counted.
            multiprocess.mark_process_dead(os.getpid())
