"""Group commit: the writes of concurrent requests in one database transaction.

A commit costs the same for one award as for fifty (a WAL flush, a BEGIN and a COMMIT round trip,
planning each statement once), so requests that arrive while earlier ones are being written wait
for the next batch instead of each opening a transaction of their own. Under light load a batch
is one request, written at once: nobody waits for a batch to fill.

The write of a batch answers each item on its own: a refusal (a `DomainError`) reaches only the
request that caused it. When the database refuses the batch as a whole before the commit, each item
is written again alone, so one bad item cannot fail the others; a failed commit is never retried,
since it may have been applied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.database.session import unit_of_work
from points_service.errors import DomainError
from points_service.observability.logs import REQUEST_ID
from points_service.observability.metrics import BATCH_SIZE

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Answer = TypeVar("Answer")

# Writes one batch in the session's transaction; one answer per item, in order.
WriteBatch = Callable[[AsyncSession, Hashable, list[Item]], Awaitable[list[Answer | DomainError]]]


@dataclass
class _Waiting(Generic[Item, Answer]):
    item: Item
    answer: asyncio.Future[Answer] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class WriteEachAlone(Exception):
    """Raised by a batch's write when its items must be written one by one instead (the stock a
    batch took at once ran short, say): expected now and then, so not logged as a failure."""


class _WrittenThenFailed(Exception):
    """The batch was written but its commit failed: it may have been applied, so it is not retried."""


class GroupCommit(Generic[Item, Answer]):
    """Batches per key (a tenant): items of different keys are never written together.

    One transaction per key is written at a time, so everything that arrives meanwhile goes into
    the next batch (measured: larger batches cost less CPU per item than more of them at once).
    A batch that stalls (a lock wait, a slow disk) gets another started beside it, up to
    `max_in_flight`: one slow batch never holds up the rest for long. Stalled means slower than
    batches usually are: twice their recent mean, at least `stall_after` and at most `stall_limit`
    seconds. A fixed 10 ms was passed by most batches of a busy machine, whose time went to waiting
    for the CPU rather than for the database: batches were started beside them for nothing, and
    smaller batches cost more CPU per item (bench/README.md). `max_batch` bounds how long a batch
    holds its row locks."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        write: WriteBatch[Item, Answer],
        max_batch: int = 64,
        max_in_flight: int = 4,
        stall_after: float = 0.01,
        stall_limit: float = 0.1,
        name: str = "unnamed",
    ) -> None:
        self._factory = factory
        # Batch sizes are observed under this name (points_group_commit_batch_size{batcher=...}).
        self._batch_sizes = BATCH_SIZE.labels(name)
        self._write = write
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._stall_after = stall_after
        self._stall_limit = max(stall_limit, stall_after)
        # Seconds a batch usually takes, start to answer: a moving mean of the last few dozen.
        self._usual_seconds: float | None = None
        self._waiting: dict[Hashable, list[_Waiting[Item, Answer]]] = {}
        # When each batch being written under a key started (the event loop's clock).
        self._started: dict[Hashable, list[float]] = {}
        self._rechecks: dict[Hashable, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, key: Hashable, item: Item) -> Answer:
        """Write `item` with whatever else is waiting under `key`; its answer, or its refusal raised."""
        waiting: _Waiting[Item, Answer] = _Waiting(item)
        self._waiting.setdefault(key, []).append(waiting)
        self._start_batches(key)
        # Shielded: a client that goes away must not cancel the write other requests share.
        return await asyncio.shield(waiting.answer)

    async def close(self) -> None:
        """Wait for the batches being written (at shutdown)."""
        for recheck in self._rechecks.values():
            recheck.cancel()
        self._rechecks.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start_batches(self, key: Hashable) -> None:
        loop = asyncio.get_running_loop()
        queue = self._waiting.get(key, [])
        started = self._started.setdefault(key, [])
        while queue and len(started) < self._max_in_flight:
            now = loop.time()
            stall_after = self._stalled_after()
            if started and now - max(started) < stall_after:
                # Written soon enough by the batch in flight: wait for it, or look again once it stalls.
                if key not in self._rechecks:
                    delay = stall_after - (now - max(started))
                    self._rechecks[key] = loop.call_later(delay, self._recheck, key)
                break
            batch, queue[:] = queue[: self._max_batch], queue[self._max_batch :]
            self._batch_sizes.observe(len(batch))
            started.append(now)
            task = asyncio.create_task(self._run(key, batch, now))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if not queue:
            self._waiting.pop(key, None)
        if not started:
            del self._started[key]

    def _stalled_after(self) -> float:
        if self._usual_seconds is None:
            return self._stall_after
        return min(max(self._stall_after, 2 * self._usual_seconds), self._stall_limit)

    def _took(self, seconds: float) -> None:
        usual = self._usual_seconds
        self._usual_seconds = seconds if usual is None else usual + (seconds - usual) / 32

    def _recheck(self, key: Hashable) -> None:
        self._rechecks.pop(key, None)
        self._start_batches(key)

    async def _run(self, key: Hashable, batch: list[_Waiting[Item, Answer]], started_at: float) -> None:
        # The task was started from one request's context, but writes for many: its log lines carry
        # no request's id rather than the wrong one.
        REQUEST_ID.set(None)
        try:
            try:
                answers = await self._write_together(key, [waiting.item for waiting in batch])
            except _WrittenThenFailed as failure:
                for waiting in batch:
                    _settle_error(waiting, failure.__cause__ or failure)
                return
            except Exception as error:
                if len(batch) == 1:
                    _settle_error(batch[0], error)
                    return
                if isinstance(error, WriteEachAlone):
                    logger.debug("a batch of %d writes is written again one by one: %s", len(batch), error)
                else:
                    logger.warning(
                        "a batch of %d writes failed (%s); writing each alone", len(batch), type(error).__name__
                    )
                await asyncio.gather(*(self._run_alone(key, waiting) for waiting in batch))
                return
            for waiting, answer in zip(batch, answers, strict=True):
                _settle(waiting, answer)
        except BaseException as error:
            for waiting in batch:
                _settle_error(waiting, error)
            raise
        finally:
            self._took(asyncio.get_running_loop().time() - started_at)
            self._started[key].remove(started_at)
            self._start_batches(key)

    async def _run_alone(self, key: Hashable, waiting: _Waiting[Item, Answer]) -> None:
        try:
            (answer,) = await self._write_together(key, [waiting.item])
        except _WrittenThenFailed as failure:
            _settle_error(waiting, failure.__cause__ or failure)
        except Exception as error:
            _settle_error(waiting, error)
        else:
            _settle(waiting, answer)

    async def _write_together(self, key: Hashable, items: list[Item]) -> list[Answer | DomainError]:
        written = False
        try:
            async with unit_of_work(self._factory) as session:
                answers = await self._write(session, key, items)
                written = True
        except Exception as error:
            if written:
                raise _WrittenThenFailed() from error
            raise
        return answers


def _settle(waiting: _Waiting[Item, Answer], answer: Answer | DomainError) -> None:
    if waiting.answer.done():
        return
    if isinstance(answer, DomainError):
        waiting.answer.set_exception(answer)
    else:
        waiting.answer.set_result(answer)


def _settle_error(waiting: _Waiting[Item, Answer], error: BaseException) -> None:
    if waiting.answer.done():
        return
    if isinstance(error, asyncio.CancelledError):
        waiting.answer.cancel()
    else:
        waiting.answer.set_exception(error)
