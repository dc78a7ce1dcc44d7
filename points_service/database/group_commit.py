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

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Answer = TypeVar("Answer")

# Writes one batch in the session's transaction; one answer per item, in order.
WriteBatch = Callable[[AsyncSession, Hashable, list[Item]], Awaitable[list[Answer | DomainError]]]


@dataclass
class _Waiting(Generic[Item, Answer]):
    item: Item
    answer: asyncio.Future[Answer] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class _WrittenThenFailed(Exception):
    """The batch was written but its commit failed: it may have been applied, so it is not retried."""


class GroupCommit(Generic[Item, Answer]):
    """Batches per key (a tenant): items of different keys are never written together.

    `max_in_flight` transactions per key run at once, so one batch is written while the next
    gathers; `max_batch` bounds how long a batch holds its row locks."""

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        write: WriteBatch[Item, Answer],
        max_batch: int = 64,
        max_in_flight: int = 2,
    ) -> None:
        self._factory = factory
        self._write = write
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._waiting: dict[Hashable, list[_Waiting[Item, Answer]]] = {}
        self._in_flight: dict[Hashable, int] = {}
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
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start_batches(self, key: Hashable) -> None:
        queue = self._waiting.get(key)
        while queue and self._in_flight.get(key, 0) < self._max_in_flight:
            batch, queue[:] = queue[: self._max_batch], queue[self._max_batch :]
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            task = asyncio.create_task(self._run(key, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if not queue:
            self._waiting.pop(key, None)

    async def _run(self, key: Hashable, batch: list[_Waiting[Item, Answer]]) -> None:
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
                logger.warning("a batch of %d writes failed (%s); writing each alone", len(batch), type(error).__name__)
                await asyncio.gather(*(self._run_alone(key, waiting) for waiting in batch))
                return
            for waiting, answer in zip(batch, answers, strict=True):
                _settle(waiting, answer)
        except BaseException as error:
            for waiting in batch:
                _settle_error(waiting, error)
            raise
        finally:
            self._in_flight[key] -= 1
            if not self._in_flight[key]:
                del self._in_flight[key]
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
