"""Failure limits: failed logins (docs/api.md, "Security") and code guessing at the counter, counted
in Redis so every worker sees the same count.

An attempt is counted before it is judged, not after: `take` adds it to every counter it falls under
and compares in the same round trip, so a burst of concurrent attempts cannot all read a count below
the limit before any of them is recorded. The k-th attempt let through sees a count of at least k, so
at most `limit` are let through per window however many arrive at once. An attempt that turns out
not to be a failure (a right password, a known code) is given back.

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


# DECR only a counter still in its window: a DECR on an expired key would create one without expiry.
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


class FailureLimiter:
    """Counts failures per key in fixed windows; a key at its limit is refused until its window ends."""

    def __init__(self, redis: Redis, window_seconds: int = WINDOW_SECONDS) -> None:
        self._redis = redis
        self._window = window_seconds
        self._local = _LOCAL_COUNTS
        self._give_back_script = redis.register_script(_GIVE_BACK)

    async def take(self, limits: list[tuple[str, int]]) -> None:
        """Count one attempt against each key, then refuse it (TooManyAttempts) if any key is now over
        its limit. A refused attempt is given back, so refusals do not prolong a lock-out."""
        keys = [key for key, _ in limits]
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.expire(key, self._window, nx=True)
                    pipe.ttl(key)
                replies = await pipe.execute()
            counted = [(int(replies[3 * i]), int(replies[3 * i + 2])) for i in range(len(keys))]
        except (RedisError, OSError):
            logger.warning("rate limiter: Redis unavailable, counting in this process only")
            count_redis_fallback("rate_limiter")
            counted = [self._count_locally(key) for key in keys]
        over = [ttl for (count, ttl), (_, limit) in zip(counted, limits, strict=True) if count > limit]
        if over:
            await self.give_back(keys)
            raise TooManyAttempts(retry_after=max(max(over), 1))

    async def give_back(self, keys: list[str]) -> None:
        """Uncount one attempt taken on these keys (one that was not a failure, or was refused)."""
        for key in keys:
            count, reset_at = self._local.get(key, (0, 0.0))
            if count > 0:
                self._local[key] = (count - 1, reset_at)
        try:
            await self._give_back_script(keys=keys)
        except (RedisError, OSError):
            logger.warning("rate limiter: Redis unavailable, could not give an attempt back")
            count_redis_fallback("rate_limiter")

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

    def _count_locally(self, key: str) -> tuple[int, int]:
        """Counts `key` in this process; its count and the seconds left in its window."""
        now = time.monotonic()
        if len(self._local) >= LOCAL_KEYS_KEPT:
            # Bounded memory during a long outage: forget finished windows first.
            for stale in [k for k, (_, reset_at) in self._local.items() if reset_at <= now]:
                del self._local[stale]
        count, reset_at = self._local.get(key, (0, now + self._window))
        if reset_at <= now:
            count, reset_at = 0, now + self._window
        self._local[key] = (count + 1, reset_at)
        return count + 1, max(int(reset_at - now), 1)

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

    @staticmethod
    def _address_key(address: str) -> str:
        return f"login-fail:addr:{address}"

    async def take(self, username: str, address: str) -> None:
        """Counts this login as a failure until it proves right (`record_success`); refuses it past a limit."""
        await self._failures.take(
            [(self._user_key(username), USERNAME_LIMIT), (self._address_key(address), ADDRESS_LIMIT)]
        )

    async def record_success(self, username: str, address: str) -> None:
        await self._failures.reset(self._user_key(username))
        await self._failures.give_back([self._address_key(address)])
