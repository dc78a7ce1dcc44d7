"""Redis holds only what can be rebuilt. Short timeouts: a Redis outage must not stall requests."""

from __future__ import annotations

from redis.asyncio import Redis


def create_redis(redis_url: str) -> Redis:
    return Redis.from_url(
        redis_url,
        socket_connect_timeout=0.5,
        socket_timeout=0.5,
        health_check_interval=10,
        decode_responses=True,
    )
