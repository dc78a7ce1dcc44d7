"""Leaderboards never serve boards that Redis brought back from an older state (issue: Redis restored
from an older snapshot kept its "boards are built" flag and served 9.6% fewer points as current)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.leaderboards.controllers import SOURCE_HEADER
from points_service.leaderboards.periods import ready_key
from points_service.leaderboards.upkeep import keep_boards
from points_service.redis_pool import create_redis
from tests.conftest import Community, Services
from tests.points_service.test_leaderboards import build


async def board(community: Community, unit: str) -> tuple[str, list[tuple[str, int]]]:
    response = await community.admin.get("/api/v1/leaderboards", params={"org_unit_id": unit, "period": "all"})
    assert response.status_code == 200, response.text
    return response.headers[SOURCE_HEADER], [(item["member_id"], item["points"]) for item in response.json()["items"]]


async def snapshot(raw: Redis, community: Community) -> dict[Any, bytes]:
    return {key: await raw.dump(key) async for key in raw.scan_iter(match=f"lb:{{{community.tenant_id}}}:*")}


async def come_back_from(raw: Redis, community: Community, saved: dict[Any, bytes]) -> None:
    """What a Redis restored from an older snapshot holds: exactly the tenant's keys of then."""
    async for key in raw.scan_iter(match=f"lb:{{{community.tenant_id}}}:*"):
        await raw.delete(key)
    for key, value in saved.items():
        await raw.restore(key, 0, value, replace=True)


async def rebuild_by_upkeep(
    services: Services, sessions: async_sessionmaker[AsyncSession], community: Community
) -> None:
    redis = create_redis(services.redis_url)
    try:
        await keep_boards(redis, sessions, only=community.tenant_id)
    finally:
        await redis.aclose()


async def test_boards_restored_from_an_older_snapshot_are_read_from_the_ledger_then_rebuilt(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    members = [await community.member(unit, name=name) for name in ("甲", "乙", "丙")]
    rule = await community.rule(points=10)
    for member in members:
        await community.award(member["id"], rule)
    await build(services, sessions, community)
    assert (await board(community, unit))[0] == "redis"
    raw = Redis.from_url(services.redis_url)
    try:
        saved = await snapshot(raw, community)
        await community.award(members[2]["id"], rule, quantity=5)
        source, current = await board(community, unit)
        assert source == "redis" and current[0] == (members[2]["id"], 60)

        await come_back_from(raw, community, saved)
        after_restore = await board(community, unit)
        await rebuild_by_upkeep(services, sessions, community)
        rebuilt = await board(community, unit)
    finally:
        await raw.aclose()

    assert after_restore == ("database", current)
    assert rebuilt == ("redis", current)


async def test_an_award_after_the_restore_notices_it_too(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    first, second = await community.member(unit, name="甲"), await community.member(unit, name="乙")
    rule = await community.rule(points=10)
    await community.award(first["id"], rule)
    await build(services, sessions, community)
    raw = Redis.from_url(services.redis_url)
    try:
        saved = await snapshot(raw, community)
        await community.award(first["id"], rule, quantity=3)
        await come_back_from(raw, community, saved)

        await community.award(second["id"], rule, quantity=2)
        after = await board(community, unit)
    finally:
        await raw.aclose()
    await rebuild_by_upkeep(services, sessions, community)

    assert after == ("database", [(first["id"], 40), (second["id"], 20)])
    assert await board(community, unit) == ("redis", after[1])


async def test_boards_built_before_redis_restarted_are_rebuilt(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    await community.award(member["id"], await community.rule(points=10))
    await build(services, sessions, community)
    redis = create_redis(services.redis_url)
    try:
        generation = (await redis.get(ready_key(community.tenant_id))).partition(":")[0]
        # A restarted server has another run id: what it loaded may miss writes made after its last save.
        await redis.set(ready_key(community.tenant_id), f"{generation}:{'0' * 40}")

        await keep_boards(redis, sessions, only=community.tenant_id)
        flag = await redis.get(ready_key(community.tenant_id))
        run_id = (await redis.info("server"))["run_id"]
    finally:
        await redis.aclose()

    new_generation, _, built_on = flag.partition(":")
    assert built_on == run_id and int(new_generation) > int(generation)
    assert await board(community, unit) == ("redis", [(member["id"], 10)])
