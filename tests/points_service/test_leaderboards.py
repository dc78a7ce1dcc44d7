"""Live leaderboards: Redis when built, PostgreSQL otherwise, the same answer either way."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.leaderboards.store import rebuild
from points_service.redis_pool import create_redis
from tests.conftest import Community, Services


async def ranking(client: Any, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/leaderboards", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def build(services: Services, sessions: async_sessionmaker[AsyncSession], community: Community) -> None:
    redis = create_redis(services.redis_url)
    try:
        async with sessions() as session:
            await rebuild(session, redis, community.tenant_id)
    finally:
        await redis.aclose()


async def forget_boards(services: Services, community: Community) -> None:
    redis = create_redis(services.redis_url)
    try:
        async for key in redis.scan_iter(match=f"lb:{{{community.tenant_id}}}:*"):
            await redis.delete(key)
    finally:
        await redis.aclose()


async def test_ranks_share_on_ties_and_names_are_masked_for_members(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    group = await community.org_unit("1号楼", "group", unit)
    people = [await community.member(group, name=name, login=True) for name in ("张三", "李四", "王五", "赵六")]
    rule = await community.rule(points=10)
    for person, quantity in zip(people, (3, 5, 5, 1), strict=True):
        await community.award(person["id"], rule, quantity=quantity)
    await build(services, sessions, community)
    phone = await community.client_for(people[0]["username"])

    board = await ranking(phone, org_unit_id=unit)

    ties = sorted([people[1]["id"], people[2]["id"]])
    assert [(i["rank"], i["member_id"], i["points"]) for i in board["items"]] == [
        (1, ties[0], 50),
        (1, ties[1], 50),
        (3, people[0]["id"], 30),
        (4, people[3]["id"], 10),
    ]
    assert {i["display_name"] for i in board["items"]} == {"张*", "李*", "王*", "赵*"}
    assert board["me"] == {"rank": 3, "points": 30}


async def test_award_shows_on_built_board_at_once_and_flushed_redis_falls_back_to_database(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    first, second = await community.member(unit, name="甲"), await community.member(unit, name="乙")
    rule = await community.rule(points=10)
    await community.award(first["id"], rule)
    await build(services, sessions, community)

    await community.award(second["id"], rule, quantity=2)
    live = await ranking(community.admin, org_unit_id=unit, period="year")
    redis = create_redis(services.redis_url)
    try:
        async for key in redis.scan_iter(match=f"lb:{{{community.tenant_id}}}:*"):
            await redis.delete(key)
    finally:
        await redis.aclose()
    from_database = await ranking(community.admin, org_unit_id=unit, period="year")

    assert [(i["member_id"], i["points"]) for i in live["items"]] == [(second["id"], 20), (first["id"], 10)]
    assert from_database == live
    assert live["items"][0]["display_name"] == "乙"


async def test_reversal_takes_points_off_and_zero_leaves_the_board(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    await build(services, sessions, community)
    awarded = (await community.award(member["id"], await community.rule(points=10))).json()
    assert len((await ranking(community.admin, org_unit_id=unit))["items"]) == 1

    await community.admin.post(f"/api/v1/admin/transactions/{awarded['transaction_id']}/reverse", json={"reason": "错"})

    assert (await ranking(community.admin, org_unit_id=unit))["items"] == []


async def test_member_cannot_see_a_unit_that_does_not_contain_them(community: Community) -> None:
    unit = await community.org_unit()
    left = await community.org_unit("东区", "area", unit)
    right = await community.org_unit("西区", "area", unit)
    member = await community.member(left, login=True)
    phone = await community.client_for(member["username"])

    assert (await phone.get("/api/v1/leaderboards", params={"org_unit_id": right})).status_code == 404
    assert (await phone.get("/api/v1/leaderboards", params={"org_unit_id": unit})).status_code == 200
    assert (await phone.get("/api/v1/leaderboards")).json()["org_unit_id"] == left
    assert (await community.admin.get("/api/v1/leaderboards")).status_code == 400


async def test_a_tie_across_the_page_border_reads_the_same_from_redis_and_from_the_database(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    people = [await community.member(unit, login=index == 4) for index in range(5)]
    rule = await community.rule(points=10)
    for person, quantity in zip(people, (5, 3, 3, 3, 1), strict=True):
        await community.award(person["id"], rule, quantity=quantity)
    phone = await community.client_for(people[4]["username"])
    tied = sorted(person["id"] for person in people[1:4])

    await build(services, sessions, community)
    after = [await phone.get("/api/v1/leaderboards", params={"limit": limit}) for limit in (1, 2, 3, 4)]
    await forget_boards(services, community)
    before = [await phone.get("/api/v1/leaderboards", params={"limit": limit}) for limit in (1, 2, 3, 4)]

    assert [r.headers["X-Leaderboard-Source"] for r in after] == ["redis"] * 4
    assert [r.headers["X-Leaderboard-Source"] for r in before] == ["database"] * 4
    assert [r.json() for r in after] == [r.json() for r in before]
    assert [(i["rank"], i["member_id"]) for i in after[2].json()["items"]] == [
        (1, people[0]["id"]),
        (2, tied[0]),
        (2, tied[1]),
    ]
    assert all(r.json()["me"] == {"rank": 5, "points": 10} for r in after)


async def test_staff_reach_only_their_subtree_on_every_read(community: Community) -> None:
    unit = await community.org_unit()
    left = await community.org_unit("东区", "area", unit)
    right = await community.org_unit("西区", "area", unit)
    staff = await community.staff(left)

    answers = [await staff.get("/api/v1/leaderboards", params={"org_unit_id": u}) for u in (left, right, left, right)]
    default = await staff.get("/api/v1/leaderboards")

    assert [a.status_code for a in answers] == [200, 404, 200, 404]
    assert default.json()["org_unit_id"] == left


async def test_a_rebuild_leaves_no_temporary_sets_and_its_boards_never_expire(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    area = await community.org_unit("东区", "area", unit)
    rule = await community.rule(points=10)
    for home in (unit, area, area):
        await community.award((await community.member(home))["id"], rule)

    await build(services, sessions, community)
    await build(services, sessions, community)

    redis = create_redis(services.redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"lb:{{{community.tenant_id}}}:*")]
        ttls = {key: await redis.ttl(key) for key in keys}
    finally:
        await redis.aclose()
    assert not [key for key in keys if ":rebuild:" in key]
    assert len([key for key in keys if key.endswith(unit)]) == 3  # month, year and all time
    assert set(ttls.values()) == {-1}
