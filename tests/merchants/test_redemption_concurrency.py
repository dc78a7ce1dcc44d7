"""Real concurrent requests against the marketplace: balances, stock, limits and codes are decided
exactly once however many requests race, and the ledger reconciles afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx

from merchants.redemptions.sweep import sweep_expired
from tests.conftest import PASSWORD, Community, unique
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import (
    Sessions,
    assert_reconciles,
    balance_of,
    catalogue_stock,
    make_past_due,
    member_with_points,
    merchant_balance,
    my_ledger,
    my_statuses,
    problem_code,
    redeem,
)


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    return Counter((r.status_code, r.json().get("code") if r.status_code >= 400 else None) for r in responses)


async def second_clerk(community: Community, merchant_id: str) -> httpx.AsyncClient:
    username = unique("clerk")
    response = await community.admin.post(
        f"/api/v1/admin/merchants/{merchant_id}/clerks", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return await community.client_for(username)


async def test_hundred_redemptions_at_once_with_points_for_ten_make_exactly_ten(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, points_price=10)

    responses = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}) for _ in range(100))
    )

    assert outcomes(responses) == {(201, None): 10, (409, "insufficient_points"): 90}
    created = [r.json() for r in responses if r.status_code == 201]
    assert {item["status"] for item in created} == {"pending"}
    assert len({item["code"] for item in created}) == 10
    assert await balance_of(phone) == (0, 100, 100)
    assert await my_ledger(phone) == [("redemption_hold", -10)] * 10 + [("adjustment", 100)]
    assert await my_statuses(phone) == {item["id"]: "pending" for item in created}
    await assert_reconciles(sessions, community)


async def test_twenty_members_racing_for_five_in_stock_get_exactly_five(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, _, reward_id = await shop(community, unit, points_price=20, stock=5)
    phones = [(await member_with_points(community, unit, 20, name=f"王{n}"))[1] for n in range(20)]

    responses = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}) for phone in phones)
    )

    assert outcomes(responses) == {(201, None): 5, (409, "out_of_stock"): 15}
    assert await catalogue_stock(phones[0], reward_id) == 0
    for phone, response in zip(phones, responses, strict=True):
        if response.status_code == 201:
            assert await balance_of(phone) == (0, 20, 20)
            assert await my_ledger(phone) == [("redemption_hold", -20), ("adjustment", 20)]
        else:
            assert await balance_of(phone) == (20, 0, 20)
            assert await my_ledger(phone) == [("adjustment", 20)]
    await assert_reconciles(sessions, community)


async def test_one_code_fulfilled_by_two_clerks_at_once_is_settled_once(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit)
    other_clerk = await second_clerk(community, merchant_id)
    codes = [(await redeem(phone, reward_id))["code"] for _ in range(5)]

    for code in codes:
        responses = await asyncio.gather(
            clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": code}),
            other_clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": code}),
        )
        assert outcomes(list(responses)) == {(200, None): 1, (409, "not_pending"): 1}, [r.text for r in responses]

    assert await balance_of(phone) == (0, 0, 100)
    assert [kind for kind, _ in await my_ledger(phone)].count("redemption_fulfil") == 5
    assert await merchant_balance(sessions, community, merchant_id) == 100
    assert set((await my_statuses(phone)).values()) == {"fulfilled"}
    await assert_reconciles(sessions, community)


async def test_a_cancel_racing_a_fulfil_has_exactly_one_winner_and_the_ledger_agrees(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 200)
    clerk, merchant_id, reward_id = await shop(community, unit, stock=10)
    redemptions = [await redeem(phone, reward_id) for _ in range(10)]

    async def cancel_after(delay: float, redemption_id: str) -> httpx.Response:
        await asyncio.sleep(delay)
        return await phone.post(f"/api/v1/me/redemptions/{redemption_id}/cancel")

    # The fulfil does more before it takes the row lock (code lookup, merchant status), so the cancel
    # is held back by a different few milliseconds each round for either side to win some races.
    for n, redemption in enumerate(redemptions):
        cancel, fulfil = await asyncio.gather(
            cancel_after(n * 0.002, redemption["id"]),
            clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]}),
        )
        assert sorted([cancel.status_code, fulfil.status_code]) == [200, 409], (cancel.text, fulfil.text)
        loser = cancel if cancel.status_code == 409 else fulfil
        assert loser.json()["code"] == "not_pending"

    statuses = await my_statuses(phone)
    fulfilled = sum(status == "fulfilled" for status in statuses.values())
    cancelled = sum(status == "cancelled" for status in statuses.values())
    assert fulfilled + cancelled == 10
    assert await balance_of(phone) == (200 - 20 * fulfilled, 0, 200)
    assert await merchant_balance(sessions, community, merchant_id) == 20 * fulfilled
    assert await catalogue_stock(phone, reward_id) == 10 - fulfilled
    kinds = Counter(kind for kind, _ in await my_ledger(phone))
    assert kinds == Counter(
        {
            "adjustment": 1,
            "redemption_hold": 10,
            "redemption_fulfil": fulfilled,
            "redemption_release": cancelled,
        }
    )
    await assert_reconciles(sessions, community)


async def test_per_member_limit_of_two_holds_against_ten_redemptions_at_once(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 10_000)
    _, _, reward_id = await shop(community, unit, points_price=30, per_member_limit=2)

    responses = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 1}) for _ in range(10))
    )

    assert outcomes(responses) == {(201, None): 2, (409, "limit_reached"): 8}
    assert await balance_of(phone) == (10_000 - 60, 60, 10_000)
    assert len(await my_statuses(phone)) == 2
    await assert_reconciles(sessions, community)


async def test_one_idempotency_key_sent_ten_times_at_once_makes_one_redemption(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=5)
    headers = {"Idempotency-Key": f"redeem-{uuid.uuid4()}"}

    responses = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}, headers=headers) for _ in range(10))
    )

    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    assert await balance_of(phone) == (80, 20, 100)
    assert await catalogue_stock(phone, reward_id) == 4
    await assert_reconciles(sessions, community)


async def test_one_member_racing_redemptions_of_two_rewards_never_overdraws(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, cheap = await shop(community, unit, points_price=10)
    dear = (await clerk.post("/api/v1/merchant/rewards", json={"title": "食用油", "points_price": 30})).json()["id"]

    responses = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}) for reward_id in [cheap, dear] * 20)
    )

    spent = sum(r.json()["points"] for r in responses if r.status_code == 201)
    assert all(problem_code(r) == (409, "insufficient_points") for r in responses if r.status_code != 201)
    assert 90 < spent <= 100
    assert await balance_of(phone) == (100 - spent, spent, 100)
    await assert_reconciles(sessions, community)


async def test_past_due_codes_touched_by_member_clerk_and_sweep_at_once_are_released_once_each(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit, points_price=10, stock=8, redemption_window_hours=1)
    redemptions = [await redeem(phone, reward_id) for _ in range(8)]
    for redemption in redemptions:
        await make_past_due(sessions, community, redemption["id"])

    results = await asyncio.gather(
        sweep_expired(sessions),
        *(phone.post(f"/api/v1/me/redemptions/{r['id']}/cancel") for r in redemptions),
        *(clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": r["code"]}) for r in redemptions),
        sweep_expired(sessions),
    )

    touches = [r for r in results if isinstance(r, httpx.Response)]
    assert outcomes(touches) == {(409, "not_pending"): 16}
    assert await my_statuses(phone) == {r["id"]: "expired" for r in redemptions}
    assert await balance_of(phone) == (100, 0, 100)
    assert Counter(kind for kind, _ in await my_ledger(phone)) == {
        "adjustment": 1,
        "redemption_hold": 8,
        "redemption_release": 8,
    }
    assert await catalogue_stock(phone, reward_id) == 8
    assert await merchant_balance(sessions, community, merchant_id) == 0
    await assert_reconciles(sessions, community)


async def test_restocking_while_members_race_never_oversells(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit, points_price=5, stock=0)
    phones = [(await member_with_points(community, unit, 5, name=f"赵{n}"))[1] for n in range(12)]

    results = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}) for phone in phones[:6]),
        clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"stock": 4}),
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}) for phone in phones[6:]),
    )

    patched = results[6]
    redemptions = [r for i, r in enumerate(results) if i != 6]
    assert patched.status_code == 200, patched.text
    taken = sum(r.status_code == 201 for r in redemptions)
    assert all(problem_code(r) == (409, "out_of_stock") for r in redemptions if r.status_code != 201)
    assert taken <= 4
    assert await catalogue_stock(phones[0], reward_id) == 4 - taken
    await assert_reconciles(sessions, community)
