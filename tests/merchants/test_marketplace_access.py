"""Who may do what in the marketplace: clerks only reach their own merchant's codes and rewards,
members only their own redemptions and the merchants serving their unit, staff only their subtree,
and a suspended merchant stops trading while its members keep their way out."""

from __future__ import annotations

import uuid

from tests.conftest import PASSWORD, Community, unique
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import (
    Sessions,
    assert_reconciles,
    balance_of,
    member_with_points,
    merchant_balance,
    my_ledger,
    my_statuses,
    problem_code,
    redeem,
)

REWARD = {"title": "大米5斤", "points_price": 20}


# -- clerks of another merchant --------------------------------------------------------------------


async def test_a_clerk_cannot_verify_or_fulfil_another_merchants_code_which_still_works_there(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk_a, merchant_a, _ = await shop(community, unit)
    clerk_b, merchant_b, reward_b = await shop(community, unit)
    redemption = await redeem(phone, reward_b)

    verify = await clerk_a.post("/api/v1/merchant/redemptions/verify", json={"code": redemption["code"]})
    fulfil = await clerk_a.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    assert problem_code(verify) == (404, "not_found")
    assert problem_code(fulfil) == (404, "not_found")
    assert await balance_of(phone) == (80, 20, 100)
    at_b = await clerk_b.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})
    assert at_b.status_code == 200, at_b.text
    assert await merchant_balance(sessions, community, merchant_a) == 0
    assert await merchant_balance(sessions, community, merchant_b) == 20
    await assert_reconciles(sessions, community)


async def test_a_clerk_cannot_patch_another_merchants_reward(community: Community) -> None:
    unit = await community.org_unit()
    clerk_a, _, _ = await shop(community, unit)
    clerk_b, _, reward_b = await shop(community, unit, stock=3)

    response = await clerk_a.patch(f"/api/v1/merchant/rewards/{reward_b}", json={"stock": 0, "status": "inactive"})

    assert problem_code(response) == (404, "not_found")
    [reward] = (await clerk_b.get("/api/v1/merchant/rewards")).json()["items"]
    assert (reward["id"], reward["stock"], reward["status"]) == (reward_b, 3, "active")


async def test_a_clerk_lists_only_its_own_merchants_rewards(community: Community) -> None:
    unit = await community.org_unit()
    clerk_a, _, reward_a = await shop(community, unit)
    await shop(community, unit)

    response = await clerk_a.get("/api/v1/merchant/rewards")

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [reward_a]


# -- members' own redemptions ----------------------------------------------------------------------


async def test_a_member_cannot_see_the_qr_of_another_members_redemption(community: Community) -> None:
    unit = await community.org_unit()
    _, owner = await member_with_points(community, unit, 100)
    _, other = await member_with_points(community, unit, 100, name="李四")
    _, _, reward_id = await shop(community, unit)
    redemption = await redeem(owner, reward_id)

    response = await other.get(f"/api/v1/me/redemptions/{redemption['id']}/qr.svg")

    assert problem_code(response) == (404, "not_found")
    assert (await owner.get(f"/api/v1/me/redemptions/{redemption['id']}/qr.svg")).status_code == 200


async def test_a_member_cannot_cancel_another_members_redemption(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, owner = await member_with_points(community, unit, 100)
    _, other = await member_with_points(community, unit, 100, name="李四")
    _, _, reward_id = await shop(community, unit, stock=2)
    redemption = await redeem(owner, reward_id)

    response = await other.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")

    assert problem_code(response) == (404, "not_found")
    assert await my_statuses(owner) == {redemption["id"]: "pending"}
    assert await balance_of(owner) == (80, 20, 100)
    assert await balance_of(other) == (100, 0, 100)
    await assert_reconciles(sessions, community)


async def test_unknown_redemption_ids_are_not_found(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 0)
    missing = uuid.uuid4()

    assert problem_code(await phone.get(f"/api/v1/me/redemptions/{missing}/qr.svg")) == (404, "not_found")
    assert problem_code(await phone.post(f"/api/v1/me/redemptions/{missing}/cancel")) == (404, "not_found")


# -- suspended merchants ---------------------------------------------------------------------------


async def suspend(community: Community, merchant_id: str, status: str = "suspended") -> None:
    response = await community.admin.patch(f"/api/v1/admin/merchants/{merchant_id}", json={"status": status})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status


async def test_a_suspended_merchants_rewards_leave_the_catalogue(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, merchant_id, reward_id = await shop(community, unit)
    _, _, other_reward = await shop(community, unit)

    await suspend(community, merchant_id)

    assert [item["id"] for item in (await phone.get("/api/v1/rewards")).json()["items"]] == [other_reward]
    refused = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})
    assert problem_code(refused) == (409, "reward_unavailable")
    assert await balance_of(phone) == (100, 0, 100)


async def test_a_suspended_merchants_clerk_cannot_fulfil(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)
    await suspend(community, merchant_id)

    response = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    assert problem_code(response) == (409, "merchant_suspended")
    assert await my_statuses(phone) == {redemption["id"]: "pending"}
    assert await balance_of(phone) == (80, 20, 100)
    assert await merchant_balance(sessions, community, merchant_id) == 0
    await assert_reconciles(sessions, community)


async def test_a_reactivated_merchant_can_fulfil_again(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)
    await suspend(community, merchant_id)
    await suspend(community, merchant_id, status="active")

    response = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    assert response.status_code == 200, response.text
    assert [item["id"] for item in (await phone.get("/api/v1/rewards")).json()["items"]] == [reward_id]
    assert await merchant_balance(sessions, community, merchant_id) == 20
    await assert_reconciles(sessions, community)


async def test_members_may_still_cancel_pending_codes_of_a_suspended_merchant(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, merchant_id, reward_id = await shop(community, unit, stock=3)
    redemption = await redeem(phone, reward_id)
    await suspend(community, merchant_id)

    response = await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await balance_of(phone) == (100, 0, 100)
    assert await my_ledger(phone) == [("redemption_release", 20), ("redemption_hold", -20), ("adjustment", 100)]
    await assert_reconciles(sessions, community)


# -- which members a merchant serves ---------------------------------------------------------------


async def test_a_member_outside_the_merchants_subtree_neither_sees_nor_redeems_its_rewards(
    community: Community, sessions: Sessions
) -> None:
    street = await community.org_unit("幸福街道", kind="street")
    served = await community.org_unit("红旗社区", parent_id=street)
    elsewhere = await community.org_unit("东风社区", parent_id=street)
    _, _, reward_id = await shop(community, served)
    _, phone = await member_with_points(community, elsewhere, 100)

    catalogue = await phone.get("/api/v1/rewards")
    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert catalogue.status_code == 200, catalogue.text
    assert catalogue.json()["items"] == []
    assert problem_code(response) == (409, "reward_unavailable")
    assert await balance_of(phone) == (100, 0, 100)
    assert await my_ledger(phone) == [("adjustment", 100)]
    await assert_reconciles(sessions, community)


async def test_a_member_anywhere_inside_the_merchants_subtree_sees_and_redeems_its_rewards(
    community: Community,
) -> None:
    street = await community.org_unit("幸福街道", kind="street")
    served = await community.org_unit("红旗社区", parent_id=street)
    grid = await community.org_unit("三网格", kind="grid", parent_id=served)
    _, _, reward_id = await shop(community, served)
    _, phone = await member_with_points(community, grid, 100)

    catalogue = (await phone.get("/api/v1/rewards")).json()["items"]
    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert [(item["id"], item["merchant"]["name"]) for item in catalogue] == [(reward_id, "红星超市")]
    assert response.status_code == 201, response.text


async def test_a_member_above_the_merchants_unit_is_not_served(community: Community) -> None:
    street = await community.org_unit("幸福街道", kind="street")
    served = await community.org_unit("红旗社区", parent_id=street)
    _, _, reward_id = await shop(community, served)
    _, phone = await member_with_points(community, street, 100)

    assert (await phone.get("/api/v1/rewards")).json()["items"] == []
    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})
    assert problem_code(response) == (409, "reward_unavailable")


async def test_an_inactive_reward_leaves_the_catalogue_and_cannot_be_redeemed(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit)

    patched = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"status": "inactive"})
    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "inactive"
    assert (await phone.get("/api/v1/rewards")).json()["items"] == []
    assert problem_code(response) == (409, "reward_unavailable")
    assert await balance_of(phone) == (100, 0, 100)


async def test_an_unknown_reward_is_not_found(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)

    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": str(uuid.uuid4())})

    assert problem_code(response) == (404, "not_found")
    assert await my_statuses(phone) == {}


# -- staff reach -----------------------------------------------------------------------------------


async def test_staff_of_another_subtree_cannot_patch_a_merchant(community: Community) -> None:
    street = await community.org_unit("幸福街道", kind="street")
    served = await community.org_unit("红旗社区", parent_id=street)
    elsewhere = await community.org_unit("东风社区", parent_id=street)
    _, merchant_id, _ = await shop(community, served)
    outsider = await community.staff(elsewhere)

    response = await outsider.patch(f"/api/v1/admin/merchants/{merchant_id}", json={"status": "suspended"})

    assert problem_code(response) == (404, "not_found")
    assert (await community.admin.get(f"/api/v1/admin/merchants/{merchant_id}")).json()["status"] == "active"


async def test_staff_of_another_subtree_can_neither_read_a_merchant_nor_add_its_clerks(community: Community) -> None:
    street = await community.org_unit("幸福街道", kind="street")
    served = await community.org_unit("红旗社区", parent_id=street)
    elsewhere = await community.org_unit("东风社区", parent_id=street)
    _, merchant_id, _ = await shop(community, served)
    outsider = await community.staff(elsewhere)

    read = await outsider.get(f"/api/v1/admin/merchants/{merchant_id}")
    clerk = await outsider.post(
        f"/api/v1/admin/merchants/{merchant_id}/clerks", json={"username": unique("clerk"), "password": PASSWORD}
    )

    assert problem_code(read) == (404, "not_found")
    assert problem_code(clerk) == (404, "not_found")


async def test_staff_above_the_merchant_may_suspend_it(community: Community) -> None:
    street = await community.org_unit("幸福街道", kind="street")
    served = await community.org_unit("红旗社区", parent_id=street)
    _, merchant_id, _ = await shop(community, served)
    street_staff = await community.staff(street)

    response = await street_staff.patch(f"/api/v1/admin/merchants/{merchant_id}", json={"status": "suspended"})

    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["status"]) == (merchant_id, "suspended")


async def test_staff_cannot_register_a_merchant_outside_their_subtree(community: Community) -> None:
    street = await community.org_unit("幸福街道", kind="street")
    mine = await community.org_unit("红旗社区", parent_id=street)
    elsewhere = await community.org_unit("东风社区", parent_id=street)
    staff = await community.staff(mine)

    response = await staff.post(
        "/api/v1/admin/merchants",
        json={
            "name": "外区商户",
            "address": "东风路2号",
            "org_unit_id": elsewhere,
            "username": unique("clerk"),
            "password": PASSWORD,
        },
    )

    assert problem_code(response) == (404, "not_found")


async def test_a_merchant_registered_by_staff_starts_active(community: Community) -> None:
    unit = await community.org_unit()
    staff = await community.staff(unit)

    response = await staff.post(
        "/api/v1/admin/merchants",
        json={
            "name": "红星超市",
            "address": "幸福路1号",
            "org_unit_id": unit,
            "username": unique("clerk"),
            "password": PASSWORD,
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "红星超市"
    assert response.json()["status"] == "active"
    uuid.UUID(response.json()["id"])


# -- roles -----------------------------------------------------------------------------------------


async def test_a_member_calling_clerk_endpoints_is_forbidden(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit)

    calls = [
        await phone.post("/api/v1/merchant/rewards", json=REWARD),
        await phone.get("/api/v1/merchant/rewards"),
        await phone.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"status": "inactive"}),
        await phone.post("/api/v1/merchant/redemptions/verify", json={"code": "ABCD-EFGH"}),
        await phone.post("/api/v1/merchant/redemptions/fulfil", json={"code": "ABCD-EFGH"}),
    ]

    assert [problem_code(response) for response in calls] == [(403, "forbidden")] * len(calls)


async def test_a_clerk_calling_admin_merchant_endpoints_is_forbidden(community: Community) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, _ = await shop(community, unit)

    calls = [
        await clerk.post(
            "/api/v1/admin/merchants",
            json={
                "name": "冒名商户",
                "address": "幸福路9号",
                "org_unit_id": unit,
                "username": unique("clerk"),
                "password": PASSWORD,
            },
        ),
        await clerk.patch(f"/api/v1/admin/merchants/{merchant_id}", json={"status": "active"}),
        await clerk.post(
            f"/api/v1/admin/merchants/{merchant_id}/clerks", json={"username": unique("clerk"), "password": PASSWORD}
        ),
    ]

    assert [problem_code(response) for response in calls] == [(403, "forbidden")] * len(calls)


async def test_a_clerk_calling_member_endpoints_is_forbidden(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit)

    calls = [
        await clerk.get("/api/v1/rewards"),
        await clerk.post("/api/v1/me/redemptions", json={"reward_id": reward_id}),
        await clerk.get("/api/v1/me/redemptions"),
    ]

    assert [problem_code(response) for response in calls] == [(403, "forbidden")] * len(calls)


async def test_staff_cannot_redeem_or_settle_codes(community: Community) -> None:
    unit = await community.org_unit()
    staff = await community.staff(unit)
    _, _, reward_id = await shop(community, unit)

    redeem_call = await staff.post("/api/v1/me/redemptions", json={"reward_id": reward_id})
    fulfil_call = await staff.post("/api/v1/merchant/redemptions/fulfil", json={"code": "ABCD-EFGH"})

    assert problem_code(redeem_call) == (403, "forbidden")
    assert problem_code(fulfil_call) == (403, "forbidden")


async def test_the_marketplace_needs_a_token(community: Community) -> None:
    calls = [
        await community.anonymous.get("/api/v1/rewards"),
        await community.anonymous.post("/api/v1/merchant/rewards", json=REWARD),
        await community.anonymous.post("/api/v1/merchant/redemptions/verify", json={"code": "ABCD-EFGH"}),
    ]

    assert [problem_code(response) for response in calls] == [(401, "unauthenticated")] * len(calls)
