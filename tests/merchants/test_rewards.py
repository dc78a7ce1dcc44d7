"""A merchant's rewards as its clerks manage them and members see them in the catalogue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import (
    Sessions,
    assert_reconciles,
    at,
    balance_of,
    catalogue_stock,
    member_with_points,
    problem_code,
    redeem,
)


async def clerk_of(community: Community, unit: str) -> httpx.AsyncClient:
    clerk, _, _ = await shop(community, unit)
    return clerk


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def own_reward(clerk: httpx.AsyncClient, reward_id: str) -> dict[str, Any]:
    [reward] = [
        item for item in (await clerk.get("/api/v1/merchant/rewards")).json()["items"] if item["id"] == reward_id
    ]
    return dict(reward)


def refused_field(response: httpx.Response) -> tuple[int, str, list[str]]:
    body = response.json()
    return response.status_code, body.get("code"), [error["field"] for error in body.get("errors", [])]


# -- creating --------------------------------------------------------------------------------------


async def test_creating_a_reward_answers_its_id_title_price_stock_and_active_status(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post(
        "/api/v1/merchant/rewards",
        json={
            "title": "食用油1升",
            "description": "金龙鱼",
            "points_price": 50,
            "stock": 12,
            "per_member_limit": 2,
            "valid_until": in_hours(48),
            "redemption_window_hours": 24,
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    uuid.UUID(body["id"])
    assert (body["title"], body["points_price"], body["stock"], body["status"]) == ("食用油1升", 50, 12, "active")
    assert (await own_reward(clerk, body["id"]))["per_member_limit"] == 2


async def test_a_reward_without_stock_is_unlimited_and_defaults_to_a_72_hour_window(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post("/api/v1/merchant/rewards", json={"title": "理发一次", "points_price": 30})

    assert response.status_code == 201, response.text
    assert response.json()["stock"] is None
    assert (await own_reward(clerk, response.json()["id"]))["redemption_window_hours"] == 72


async def test_a_points_price_of_zero_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post("/api/v1/merchant/rewards", json={"title": "白送", "points_price": 0})

    assert refused_field(response) == (400, "validation_error", ["points_price"])


async def test_a_negative_points_price_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post("/api/v1/merchant/rewards", json={"title": "倒贴", "points_price": -5})

    assert refused_field(response) == (400, "validation_error", ["points_price"])


async def test_a_negative_stock_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post("/api/v1/merchant/rewards", json={"title": "大米", "points_price": 20, "stock": -1})

    assert refused_field(response) == (400, "validation_error", ["stock"])


async def test_integers_over_a_billion_are_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    for field in ("points_price", "stock", "per_member_limit", "redemption_window_hours"):
        body = {"title": "大米", "points_price": 20, field: 1_000_000_001}
        response = await clerk.post("/api/v1/merchant/rewards", json=body)
        assert refused_field(response) == (400, "validation_error", [field]), response.text


async def test_a_per_member_limit_below_one_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post(
        "/api/v1/merchant/rewards", json={"title": "大米", "points_price": 20, "per_member_limit": 0}
    )

    assert refused_field(response) == (400, "validation_error", ["per_member_limit"])


async def test_a_redemption_window_below_one_hour_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post(
        "/api/v1/merchant/rewards", json={"title": "大米", "points_price": 20, "redemption_window_hours": 0}
    )

    assert refused_field(response) == (400, "validation_error", ["redemption_window_hours"])


async def test_a_valid_until_in_the_past_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.post(
        "/api/v1/merchant/rewards", json={"title": "大米", "points_price": 20, "valid_until": in_hours(-1)}
    )

    assert refused_field(response) == (400, "validation_error", ["valid_until"])
    assert len((await clerk.get("/api/v1/merchant/rewards")).json()["items"]) == 1  # only shop()'s own


async def test_a_valid_until_without_an_offset_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)
    naive = (datetime.now(UTC) + timedelta(days=3)).replace(tzinfo=None).isoformat()

    response = await clerk.post(
        "/api/v1/merchant/rewards", json={"title": "大米", "points_price": 20, "valid_until": naive}
    )

    assert refused_field(response) == (400, "validation_error", ["valid_until"])


async def test_a_reward_without_a_title_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    for title in ("", "   "):
        response = await clerk.post("/api/v1/merchant/rewards", json={"title": title, "points_price": 20})
        assert refused_field(response) == (400, "validation_error", ["title"]), title


# -- editing ---------------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(
        community,
        unit,
        description="东北大米",
        stock=7,
        per_member_limit=3,
        valid_until=in_hours(48),
        redemption_window_hours=12,
    )
    before = await own_reward(clerk, reward_id)

    response = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"points_price": 25})

    assert response.status_code == 200, response.text
    after = await own_reward(clerk, reward_id)
    assert after["points_price"] == 25
    assert {**after, "points_price": before["points_price"]} == before
    assert at(after["valid_until"]) == at(before["valid_until"])


async def test_patch_with_stock_null_makes_the_stock_unlimited(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit, stock=1)

    response = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"stock": None})

    assert response.status_code == 200, response.text
    assert response.json()["stock"] is None
    codes = [await redeem(phone, reward_id) for _ in range(3)]
    assert len(codes) == 3
    assert await catalogue_stock(phone, reward_id) is None
    await phone.post(f"/api/v1/me/redemptions/{codes[0]['id']}/cancel")
    assert await catalogue_stock(phone, reward_id) is None
    await assert_reconciles(sessions, community)


async def test_patch_with_a_price_of_zero_is_refused_and_changes_nothing(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit)

    response = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"points_price": 0, "title": "新"})

    assert refused_field(response) == (400, "validation_error", ["points_price"])
    reward = await own_reward(clerk, reward_id)
    assert (reward["title"], reward["points_price"]) == ("大米5斤", 20)


async def test_patch_with_a_past_valid_until_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit)

    response = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"valid_until": in_hours(-2)})

    assert refused_field(response) == (400, "validation_error", ["valid_until"])
    assert (await own_reward(clerk, reward_id))["valid_until"] is None


async def test_patch_with_an_unknown_status_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit)

    response = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"status": "deleted"})

    assert refused_field(response) == (400, "validation_error", ["status"])


async def test_patching_an_unknown_reward_is_not_found(community: Community) -> None:
    unit = await community.org_unit()
    clerk = await clerk_of(community, unit)

    response = await clerk.patch(f"/api/v1/merchant/rewards/{uuid.uuid4()}", json={"stock": 5})

    assert problem_code(response) == (404, "not_found")


async def test_a_reactivated_reward_returns_to_the_catalogue(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit)
    await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"status": "inactive"})

    response = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"status": "active"})

    assert response.status_code == 200, response.text
    assert [item["id"] for item in (await phone.get("/api/v1/rewards")).json()["items"]] == [reward_id]
    assert (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).status_code == 201


# -- the catalogue ---------------------------------------------------------------------------------


async def test_the_catalogue_shows_each_reward_with_its_merchant(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 0)
    _, merchant_id, reward_id = await shop(community, unit, stock=4)

    response = await phone.get("/api/v1/rewards")

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert (item["id"], item["title"], item["points_price"], item["stock"]) == (reward_id, "大米5斤", 20, 4)
    assert (item["merchant"]["id"], item["merchant"]["name"]) == (merchant_id, "红星超市")
    assert response.json()["next_cursor"] is None


async def test_a_sold_out_reward_stays_listed_with_stock_zero(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=2)
    await redeem(phone, reward_id, quantity=2)

    listed = await catalogue_stock(phone, reward_id)
    refused = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert listed == 0
    assert problem_code(refused) == (409, "out_of_stock")
    assert await balance_of(phone) == (60, 40, 100)
    await assert_reconciles(sessions, community)


async def test_a_reward_created_with_stock_zero_is_listed_and_sold_out(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=0)

    assert await catalogue_stock(phone, reward_id) == 0
    refused = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})
    assert problem_code(refused) == (409, "out_of_stock")


async def test_restocking_a_sold_out_reward_makes_it_redeemable_again(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit, stock=1)
    await redeem(phone, reward_id)

    restocked = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"stock": 3})

    assert restocked.status_code == 200, restocked.text
    assert await catalogue_stock(phone, reward_id) == 3
    assert (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).status_code == 201
    assert await catalogue_stock(phone, reward_id) == 2


async def test_a_reward_past_its_valid_until_leaves_the_catalogue_and_cannot_be_redeemed(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, valid_until=in_hours(1))
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE rewards SET valid_until = now() - interval '1 minute' WHERE tenant_id = :tenant AND id = :id"),
            {"tenant": community.tenant_id, "id": uuid.UUID(reward_id)},
        )

    catalogue = (await phone.get("/api/v1/rewards")).json()["items"]
    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert catalogue == []
    assert problem_code(response) == (409, "reward_unavailable")
    assert await balance_of(phone) == (100, 0, 100)


async def test_the_catalogue_pages_newest_first(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 0)
    clerk, _, first = await shop(community, unit)
    created = [first]
    for n in range(4):
        response = await clerk.post("/api/v1/merchant/rewards", json={"title": f"奖品{n}", "points_price": 5})
        created.append(response.json()["id"])

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await phone.get("/api/v1/rewards", params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(created))
