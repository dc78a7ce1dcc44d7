"""Redis holds only what can be rebuilt. Short timeouts: a Redis outage must not stall requests.

A hung Redis (stopped, swapping, its network dropping packets) answers nothing, so each call waits for
its whole timeout. The request client (`create_redis(..., breaker=CircuitBreaker())`) stops asking
after a few timeouts in a row: for a short cool-down every call fails at once with `RedisSkipped`, a
`ConnectionError`, which every caller already handles as "Redis unavailable" (boards read from
PostgreSQL and marked for a rebuild when an update was skipped, limits counted in this process). Then
one call probes; an answer closes the breaker, another timeout opens it for another cool-down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# A request's Redis calls (limits, boards, publishing changes) answer in about a millisecond; one that
# takes longer meets a hung or overloaded Redis, and the request goes on without it (a per-process
# count, boards from PostgreSQL) instead of waiting half a second per call.
REQUEST_TIMEOUT_SECONDS = 0.1
# Failure limits (auth/rate_limit.py) wait longer: a limit given up on falls back to counting in one
# process, which lets a burst of guesses through once per worker. A busy process meets 0.1 s without
# Redis being slow at all: 24 logins at once on two loaded cores left replies that had arrived unread
# past their deadline, and 8 guesses were judged where 5 may be. A login waits for Argon2 anyway.
LIMITS_TIMEOUT_SECONDS = 1.0
# Rebuilding boards and the commands write many keys at a time and run off the request path.
BACKGROUND_TIMEOUT_SECONDS = 0.5
# Timeouts in a row that open the breaker, and how long Redis is skipped before the next probe.
BREAKER_TIMEOUTS = 3
BREAKER_COOL_DOWN_SECONDS = 5.0


class RedisSkipped(RedisConnectionError):
    """Not sent: Redis timed out repeatedly just before, and is skipped for a few seconds."""


T = TypeVar("T")


class CircuitBreaker:
    """Per process and per client: counts failures (timeouts, lost connections) in a row."""

    def __init__(self, timeouts: int = BREAKER_TIMEOUTS, cool_down_seconds: float = BREAKER_COOL_DOWN_SECONDS) -> None:
        self.limit = timeouts
        self.cool_down = cool_down_seconds
        self.failures_in_a_row = 0
        # Calls that waited for a timeout or lost their connection; and calls skipped while open.
        self.failures = 0
        self.skipped = 0
        self._open_until: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def before(self) -> bool:
        """Whether this call is the probe; raises RedisSkipped while Redis is skipped."""
        if self._open_until is None:
            return False
        if self._probing or time.monotonic() < self._open_until:
            self.skipped += 1
            raise RedisSkipped("Redis skipped for a few seconds after repeated timeouts")
        self._probing = True
        return True

    def answered(self, probe: bool) -> None:
        if probe:
            self._probing = False
        if self._open_until is not None and (probe or not self._probing):
            logger.warning("redis: answering again; the breaker is closed")
            self._open_until = None
        self.failures_in_a_row = 0

    def released(self, probe: bool) -> None:
        """The call ended without telling either way (cancelled): the next one may probe."""
        if probe:
            self._probing = False

    def failed(self, probe: bool) -> None:
        self.failures += 1
        self.failures_in_a_row += 1
        if probe:
            self._probing = False
        if probe or (self._open_until is None and self.failures_in_a_row >= self.limit):
            if not probe:
                logger.warning(
                    "redis: %s calls in a row timed out or lost their connection; skipping Redis for %s s",
                    self.failures_in_a_row,
                    self.cool_down,
                )
            self._open_until = time.monotonic() + self.cool_down


# Errors that say Redis did not answer; any other (a script error, a wrong type) is an answer.
_UNANSWERED = (RedisTimeoutError, RedisConnectionError, OSError)


async def _through(breaker: CircuitBreaker, seconds: float, call: Callable[[], Awaitable[T]]) -> T:
    """One call past the breaker, within `seconds`: a timeout or lost connection counts against Redis,
    any answer (an error reply included) closes it, and a cancelled call leaves its probe for the next.

    The deadline is one `asyncio.timeout` around the whole call rather than redis-py's socket timeout,
    which runs every send in `asyncio.wait_for`: a task of its own and extra turns of the event loop
    per command, a fifth of a board read's CPU. A call cut short is cancelled inside redis-py, which
    closes that connection as it does on its own timeouts."""
    probe = breaker.before()
    try:
        async with asyncio.timeout(seconds):
            answer = await call()
    except TimeoutError as error:  # asyncio's deadline (also an OSError: caught first)
        breaker.failed(probe)
        raise RedisTimeoutError(f"Redis did not answer within {seconds} s") from error
    except _UNANSWERED:
        breaker.failed(probe)
        raise
    except RedisError:
        breaker.answered(probe)
        raise
    except BaseException:
        breaker.released(probe)
        raise
    breaker.answered(probe)
    return answer


class GuardedPipeline(Pipeline):
    breaker: CircuitBreaker
    timeout_seconds: float

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        execute = super().execute
        if not self.command_stack:
            return await execute(raise_on_error)
        return await _through(self.breaker, self.timeout_seconds, lambda: execute(raise_on_error))


class GuardedRedis(Redis):
    """A client whose calls and pipelines go through a `CircuitBreaker`."""

    breaker: CircuitBreaker
    timeout_seconds: float

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        execute_command = super().execute_command
        return await _through(self.breaker, self.timeout_seconds, lambda: execute_command(*args, **options))

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> GuardedPipeline:
        pipe = GuardedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.breaker = self.breaker
        pipe.timeout_seconds = self.timeout_seconds
        return pipe


def create_redis(
    redis_url: str, timeout_seconds: float = BACKGROUND_TIMEOUT_SECONDS, breaker: CircuitBreaker | None = None
) -> Redis:
    if breaker is None:
        return Redis.from_url(
            redis_url,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            health_check_interval=10,
            decode_responses=True,
        )
    client = GuardedRedis.from_url(
        redis_url,
        socket_connect_timeout=timeout_seconds,
        # Each call's deadline is `_through`'s.
        socket_timeout=None,
        health_check_interval=10,
        decode_responses=True,
        # A timed-out call is not sent again (redis-py's default retries it ten times, each waiting
        # for the whole timeout); a connection found closed (Redis restarted) is tried once more.
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    client.breaker = breaker
    client.timeout_seconds = timeout_seconds
    return client
