"""Redis holds only what can be rebuilt. Short timeouts: a Redis outage must not stall requests."""

from __future__ import annotations

from redis.asyncio import Redis

# A request's Redis calls (limits, boards, publishing changes) answer in about a millisecond; one that
# takes longer meets a hung or overloaded Redis, and the request goes on without it (a per-process
# count, boards from PostgreSQL) instead of waiting half a second per call.
REQUEST_TIMEOUT_SECONDS = 0.1
# Rebuilding boards and the commands write many keys at a time and run off the request path.
BACKGROUND_TIMEOUT_SECONDS = 0.5


def create_redis(redis_url: str, timeout_seconds: float = BACKGROUND_TIMEOUT_SECONDS) -> Redis:
    return Redis.from_url(
        redis_url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        health_check_interval=10,
        decode_responses=True,
    )
