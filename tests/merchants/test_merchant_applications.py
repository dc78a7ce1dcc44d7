"""A shop applies on its own from its community's link; it stays pending (no catalogue, no counter)
until staff approve it, and staff see applications only in their own subtree."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from tests.conftest import PASSWORD, Community, unique
from tests.merchants.test_redemptions import member_with_points, problem_code, redeem


async def apply(community: Community, unit: str, **fields: Any) -> httpx.Response:
    body = {"name": "幸福小卖部", "address": "幸福路8号", "org_unit_id": unit, "username": unique("shop"), **fields}
    return await community.anonymous.post("/api/v1/merchant-applications", json={"password": PASSWORD, **body})


async def test_an_application_creates_a_pending_merchant_whose_clerk_can_sign_in(community: Community) -> None:
    unit = await community.org_unit()
    username = unique("shop")

    response = await apply(community, unit, username=username)

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    clerk = await community.client_for(username)
    reward = await clerk.post("/api/v1/merchant/rewards", json={"title": "酱油", "points_price": 10})
    assert reward.status_code == 201, reward.text


async def test_a_pending_merchants_rewards_stay_out_of_the_catalogue_until_staff_approve(
    community: Community,
) -> None:
    unit = await community.org_unit()
    username = unique("shop")
    merchant = (await apply(community, unit, username=username)).json()
    clerk = await community.client_for(username)
    reward = (await clerk.post("/api/v1/merchant/rewards", json={"title": "酱油", "points_price": 10})).json()
    _, phone = await member_with_points(community, unit, 50)

    before = [item["id"] for item in (await phone.get("/api/v1/rewards")).json()["items"]]
    refused = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward["id"]})
    approved = await community.admin.patch(f"/api/v1/admin/merchants/{merchant['id']}", json={"status": "active"})
    after = [item["id"] for item in (await phone.get("/api/v1/rewards")).json()["items"]]

    assert reward["id"] not in before
    assert problem_code(refused) == (409, "reward_unavailable")
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert reward["id"] in after
    redemption = await redeem(phone, reward["id"])
    fulfilled = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})
    assert fulfilled.status_code == 200, fulfilled.text


async def test_staff_list_pending_applications_of_their_own_subtree_only(community: Community) -> None:
    root = await community.org_unit("红旗社区")
    area_a = await community.org_unit("一区", "area", root)
    area_b = await community.org_unit("二区", "area", root)
    in_a = (await apply(community, area_a, name="甲店")).json()
    in_b = (await apply(community, area_b, name="乙店")).json()
    staff_a = await community.staff(area_a)

    pending_for_admin = await community.admin.get("/api/v1/admin/merchants", params={"status": "pending"})
    pending_for_staff = await staff_a.get("/api/v1/admin/merchants", params={"status": "pending"})
    approve_other = await staff_a.patch(f"/api/v1/admin/merchants/{in_b['id']}", json={"status": "active"})

    assert {item["id"] for item in pending_for_admin.json()["items"]} == {in_a["id"], in_b["id"]}
    assert [item["id"] for item in pending_for_staff.json()["items"]] == [in_a["id"]]
    assert problem_code(approve_other) == (404, "not_found")


async def test_an_application_to_an_unknown_community_is_404_and_creates_no_login(community: Community) -> None:
    username = unique("shop")

    response = await apply(community, str(uuid.uuid4()), username=username)

    assert problem_code(response) == (404, "not_found")
    login = await community.anonymous.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 401


async def test_an_application_with_a_taken_username_is_409_and_creates_no_merchant(community: Community) -> None:
    unit = await community.org_unit()
    username = unique("shop")
    assert (await apply(community, unit, username=username)).status_code == 201

    again = await apply(community, unit, username=username, name="另一家店")

    assert again.status_code == 409
    listed = (await community.admin.get("/api/v1/admin/merchants")).json()["items"]
    assert [item["name"] for item in listed] == ["幸福小卖部"]


async def test_a_flood_of_applications_from_one_address_is_refused_after_five(community: Community) -> None:
    unit = await community.org_unit()

    answers = [(await apply(community, unit)).status_code for _ in range(6)]

    assert answers == [201] * 5 + [429]


async def test_a_parallel_burst_of_applications_from_one_address_files_at_most_five(community: Community) -> None:
    unit = await community.org_unit()

    answers = await asyncio.gather(*(apply(community, unit) for _ in range(12)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 5 + [429] * 7
    listed = (await community.admin.get("/api/v1/admin/merchants")).json()["items"]
    assert len(listed) == 5


async def test_refused_applications_count_against_the_address_too(community: Community) -> None:
    unit = await community.org_unit()
    username = unique("shop")
    assert (await apply(community, unit, username=username)).status_code == 201
    taken = [(await apply(community, unit, username=username)).status_code for _ in range(4)]

    sixth = await apply(community, unit)

    assert taken == [409] * 4
    assert sixth.status_code == 429
