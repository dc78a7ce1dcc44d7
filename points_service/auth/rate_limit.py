"""Failure limits: failed logins (docs/api.md, "Security") and code guessing at the counter, counted
in Redis so every worker sees the same count.

When Redis is down the limiter fails open to a per-process counter rather than closed: closing
would lock every member out of their points for the length of a cache outage, while Argon2id
still makes each guess expensive and each process still caps guesses it sees itself.
"""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from points_service.errors import TooManyAttempts
from points_service.observability.metrics import count_redis_fallback

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
USERNAME_LIMIT = 5
ADDRESS_LIMIT = 30
LOCAL_KEYS_KEPT = 10_000

# The fallback counts live as long as the process, not the limiter: a limiter is built per request.
_LOCAL_COUNTS: dict[str, tuple[int, float]] = {}


class FailureLimiter:
    """Counts failures per key in fixed windows; a key at its limit is refused until its window ends."""

    def __init__(self, redis: Redis, window_seconds: int = WINDOW_SECONDS) -> None:
        self._redis = redis
        self._window = window_seconds
        self._local = _LOCAL_COUNTS

    async def check(self, limits: list[tuple[str, int]]) -> None:
        for key, limit in limits:
            count, retry_after = await self._read(key)
            if count >= limit:
                raise TooManyAttempts(retry_after=max(retry_after, 1))

    async def record_failure(self, keys: list[str]) -> None:
        for key in keys:
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, self._window, nx=True)
                    await pipe.execute()
            except (RedisError, OSError):
                logger.warning("rate limiter: Redis unavailable, counting in this process only")
                count_redis_fallback("rate_limiter")
                self._count_locally(key)

    async def reset(self, key: str) -> None:
        self._local.pop(key, None)
        try:
            await self._redis.delete(key)
        except (RedisError, OSError):
            logger.warning("rate limiter: Redis unavailable, could not reset a counter")
            count_redis_fallback("rate_limiter")

    def _count_locally(self, key: str) -> None:
        now = time.monotonic()
        if len(self._local) >= LOCAL_KEYS_KEPT:
            # Bounded memory during a long outage: forget finished windows first.
            for stale in [k for k, (_, reset_at) in self._local.items() if reset_at <= now]:
                del self._local[stale]
        count, reset_at = self._local.get(key, (0, now + self._window))
        if reset_at <= now:
            count, reset_at = 0, now + self._window
        self._local[key] = (count + 1, reset_at)

    async def _read(self, key: str) -> tuple[int, int]:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(key)
                pipe.ttl(key)
                raw, ttl = await pipe.execute()
            return int(raw or 0), int(ttl if ttl and ttl > 0 else self._window)
        except (RedisError, OSError):
            count_redis_fallback("rate_limiter")
            count, reset_at = self._local.get(key, (0, 0.0))
            remaining = reset_at - time.monotonic()
            if remaining <= 0:
                self._local.pop(key, None)
                return 0, 0
            return count, int(remaining)


class LoginLimiter:
    def __init__(self, redis: Redis) -> None:
        self._failures = FailureLimiter(redis)

    @staticmethod
    def _user_key(username: str) -> str:
        return f"login-fail:user:{username.strip().lower()}"

    async def check(self, username: str, address: str) -> None:
        await self._failures.check(
            [(self._user_key(username), USERNAME_LIMIT), (f"login-fail:addr:{address}", ADDRESS_LIMIT)]
        )

    async def record_failure(self, username: str, address: str) -> None:
        await self._failures.record_failure([self._user_key(username), f"login-fail:addr:{address}"])

    async def record_success(self, username: str) -> None:
        await self._failures.reset(self._user_key(username))
