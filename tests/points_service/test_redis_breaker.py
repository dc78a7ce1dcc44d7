"""A hung Redis (SIGSTOP): awards keep answering without waiting for Redis's timeout on every request,
the boards they could not update are marked for a rebuild, and once Redis answers again it is used again.

A Redis server of the test's own is stopped and continued, so the shared one is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from redis import Redis as SyncRedis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.leaderboards.upkeep import STALE_TENANTS
from points_service.redis_pool import BREAKER_TIMEOUTS, CircuitBreaker, GuardedRedis
from tests.conftest import ServedApp, Services, new_community, settings_for

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if not os.path.exists(REDIS_SERVER):
        pytest.fail(f"this test starts a Redis server of its own: {REDIS_SERVER} is needed")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError, RedisError):  # still starting
            if SyncRedis.from_url(url, socket_timeout=0.5).ping():
                break
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail("the test's Redis server did not start")
        time.sleep(0.05)
    try:
        yield url, server
    finally:
        server.send_signal(signal.SIGCONT)
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def served_on_own_redis(services: Services, own_redis: tuple[str, subprocess.Popen[bytes]]) -> Iterator[ServedApp]:
    with ServedApp(settings_for(services, redis_url=own_redis[0])) as app:
        yield app


def breaker_of(app: ServedApp) -> CircuitBreaker:
    redis = app.server.config.app.state.redis
    assert isinstance(redis, GuardedRedis)
    return redis.breaker


async def test_awards_go_on_quickly_while_redis_hangs_and_use_it_again_once_it_answers(
    served_on_own_redis: ServedApp,
    own_redis: tuple[str, subprocess.Popen[bytes]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    server = own_redis[1]
    breaker = breaker_of(served_on_own_redis)
    async with new_community(served_on_own_redis, sessions) as community:
        unit = await community.org_unit("红旗社区")
        member = await community.member(unit, name="赵六", login=True)
        rule = await community.rule(points=5)
        assert (await community.award(member["id"], rule)).status_code == 201
        assert not breaker.is_open
        failures_before = breaker.failures
        # Shorter than in service, so the test need not wait five seconds for the probe.
        breaker.cool_down = 1.0

        server.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            awards = 20
            for _ in range(awards):
                answer = await community.award(member["id"], rule)
                assert answer.status_code == 201, answer.text
            elapsed = time.monotonic() - started
            taken = breaker.failures - failures_before
            # A timeout for each of the first few calls, then at most one probe per cool-down: not
            # one (or ten, with retries) per award.
            assert BREAKER_TIMEOUTS <= taken <= BREAKER_TIMEOUTS + int(elapsed / breaker.cool_down) + 1, taken
            assert breaker.is_open
            assert breaker.skipped >= awards - taken
            # Generous: twenty awards with a timeout each would still be above 2 s.
            assert elapsed < 2 + awards * 0.1 * 0.5 + BREAKER_TIMEOUTS * 0.1, elapsed
            # The boards missed those updates: they are rebuilt once Redis is back.
            assert community.tenant_id in STALE_TENANTS
            # Signing in (its limits counted in this process meanwhile) and reading from PostgreSQL work too.
            balance = await community.balance(member)
            assert balance["available"] == 5 * (awards + 1), balance
        finally:
            server.send_signal(signal.SIGCONT)

        # After the cool-down the next call probes, Redis answers, and the breaker closes.
        deadline = time.monotonic() + breaker.cool_down + 10
        while breaker.is_open and time.monotonic() < deadline:
            assert (await community.award(member["id"], rule)).status_code == 201
            await asyncio.sleep(0.25)
        assert not breaker.is_open
        failures_after = breaker.failures
        assert (await community.award(member["id"], rule)).status_code == 201
        assert breaker.failures == failures_after


def test_the_breaker_opens_after_timeouts_in_a_row_and_one_probe_closes_it() -> None:
    from points_service.redis_pool import RedisSkipped

    breaker = CircuitBreaker(timeouts=3, cool_down_seconds=0.05)
    for _ in range(2):
        breaker.failed(breaker.before())
    breaker.answered(breaker.before())  # an answer in between: the count starts again
    for _ in range(3):
        breaker.failed(breaker.before())
    assert breaker.is_open
    with pytest.raises(RedisSkipped):
        breaker.before()
    time.sleep(0.06)
    probe = breaker.before()
    assert probe
    with pytest.raises(RedisSkipped):
        breaker.before()  # one probe at a time
    breaker.failed(probe)  # still hung: another cool-down
    with pytest.raises(RedisSkipped):
        breaker.before()
    time.sleep(0.06)
    breaker.answered(breaker.before())
    assert not breaker.is_open
    assert breaker.failures == 6
