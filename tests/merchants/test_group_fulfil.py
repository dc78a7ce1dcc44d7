"""Fulfilments by group commit: clerks handing rewards over at one merchant at the same moment share
database transactions (and the one lock of the merchant's ledger account), and each code still gets
the answer it would have got alone."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
from sqlalchemy import text

from tests.conftest import Community
from tests.merchants.test_redemption_concurrency import outcomes, second_clerk
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import (
    Sessions,
    assert_reconciles,
    balance_of,
    make_past_due,
    member_with_points,
    merchant_balance,
    my_statuses,
    redeem,
)

FULFIL = "/api/v1/merchant/redemptions/fulfil"


async def fulfilment_commits(sessions: Sessions, merchant_id: str) -> tuple[int, int]:
    """(fulfilled redemptions at the merchant, database transactions that settled them)."""
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT count(*), count(DISTINCT xmin::text) FROM redemptions"
                    " WHERE merchant_id = :m AND status = 'fulfilled'"
                ),
                {"m": uuid.UUID(merchant_id)},
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_many_codes_at_one_merchant_at_once_are_each_answered_as_alone(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, reward_id = await shop(community, unit, points_price=10, stock=1000)
    other_clerk = await second_clerk(community, merchant_id)
    _, _, elsewhere_reward = await shop(community, unit, points_price=10)
    phones = [(await member_with_points(community, unit, 100, name=f"孙{n}"))[1] for n in range(6)]
    # Six members, five codes each, of different sizes: 30 codes, 5 of them fulfilled beforehand.
    mine = await asyncio.gather(*(redeem(phone, reward_id, quantity=1 + n % 3) for phone in phones for n in range(5)))
    used, fresh = mine[:5], mine[5:]
    for redemption in used:
        assert (await clerk.post(FULFIL, json={"code": redemption["code"]})).status_code == 200
    past_due = fresh[-1]
    await make_past_due(sessions, community, past_due["id"])
    twice, fresh = fresh[0], fresh[1:-1]
    other_shops = await redeem(phones[0], elsewhere_reward)

    sent = {
        "fresh": [clerk.post(FULFIL, json={"code": r["code"].lower()}) for r in fresh],
        "twice": [
            clerk.post(FULFIL, json={"code": twice["code"]}),
            other_clerk.post(FULFIL, json={"code": twice["code"]}),
        ],
        "used": [other_clerk.post(FULFIL, json={"code": r["code"]}) for r in used],
        "unknown": [clerk.post(FULFIL, json={"code": f"ZZZZ-{n:04d}"}) for n in range(3)],
        "malformed": [clerk.post(FULFIL, json={"code": "not a code"})],
        "other shop": [other_clerk.post(FULFIL, json={"code": other_shops["code"]})],
        "past due": [clerk.post(FULFIL, json={"code": past_due["code"]})],
    }
    kinds = [kind for kind, calls in sent.items() for _ in calls]
    responses = await asyncio.gather(*(call for calls in sent.values() for call in calls))
    by_kind: dict[str, list[httpx.Response]] = {}
    for kind, response in zip(kinds, responses, strict=True):
        by_kind.setdefault(kind, []).append(response)

    assert outcomes(by_kind["fresh"]) == {(200, None): len(fresh)}, [r.text for r in by_kind["fresh"]]
    assert [(r.json()["id"], r.json()["points"]) for r in by_kind["fresh"]] == [(r["id"], r["points"]) for r in fresh]
    assert outcomes(by_kind["twice"]) == {(200, None): 1, (409, "not_pending"): 1}
    assert outcomes(by_kind["used"]) == {(409, "not_pending"): 5}
    assert outcomes(by_kind["unknown"] + by_kind["malformed"] + by_kind["other shop"]) == {(404, "not_found"): 5}
    assert outcomes(by_kind["past due"]) == {(409, "not_pending"): 1}

    fulfilled = [*used, *fresh, twice]
    assert await merchant_balance(sessions, community, merchant_id) == sum(r["points"] for r in fulfilled)
    statuses: dict[str, str] = {}
    for phone in phones:
        statuses.update(await my_statuses(phone))
    assert Counter(statuses.values()) == {"fulfilled": len(fulfilled), "expired": 1, "pending": 1}
    # Held points left: only the code of the other shop (the past-due code's went back).
    assert sum([(await balance_of(phone))[1] for phone in phones]) == other_shops["points"]
    written, commits = await fulfilment_commits(sessions, merchant_id)
    assert written == len(fulfilled)
    assert commits < written, "fulfilments sent at once were committed one by one"
    await assert_reconciles(sessions, community)


async def test_one_fulfil_key_sent_five_times_at_once_settles_once_and_a_refusal_is_kept(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, reward_id = await shop(community, unit, points_price=30)
    _, phone = await member_with_points(community, unit, 100)
    redemption = await redeem(phone, reward_id)
    key, unknown_key = f"fulfil-{uuid.uuid4()}", f"fulfil-{uuid.uuid4()}"

    responses = await asyncio.gather(
        *(clerk.post(FULFIL, json={"code": redemption["code"]}, headers={"Idempotency-Key": key}) for _ in range(5)),
        *(clerk.post(FULFIL, json={"code": "ZZZZ-ZZZZ"}, headers={"Idempotency-Key": unknown_key}) for _ in range(3)),
    )

    settled, refused = responses[:5], responses[5:]
    assert {r.status_code for r in settled} == {200}, [r.text for r in settled]
    assert {r.json()["id"] for r in settled} == {redemption["id"]}
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in settled) == 4
    assert outcomes(list(refused)) == {(404, "not_found"): 3}
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in refused) == 2
    assert await balance_of(phone) == (70, 0, 100)
    assert await merchant_balance(sessions, community, merchant_id) == 30
    await assert_reconciles(sessions, community)


async def test_forty_parallel_unknown_codes_at_the_fulfil_desk_count_at_most_twenty_misses(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, reward_id = await shop(community, unit, points_price=10)
    _, phone = await member_with_points(community, unit, 100)
    good = await redeem(phone, reward_id)

    # A found code is not a miss: the good one before the burst leaves all twenty misses to it.
    assert (await clerk.post(FULFIL, json={"code": good["code"]})).status_code == 200
    burst = await asyncio.gather(*(clerk.post(FULFIL, json={"code": f"ZZZZ-{n:04d}"}) for n in range(40)))

    counted = outcomes(burst)
    assert set(counted) == {(404, "not_found"), (429, "too_many_attempts")}, counted
    assert counted[(404, "not_found")] == 20, counted
    assert await merchant_balance(sessions, community, merchant_id) == 10
    await assert_reconciles(sessions, community)


async def stripe_balances(sessions: Sessions, merchant_id: str) -> dict[int, int]:
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT stripe, balance FROM ledger_accounts WHERE merchant_id = :m"), {"m": uuid.UUID(merchant_id)}
        )
    return {int(row.stripe): int(row.balance) for row in rows}


async def test_fulfilments_go_on_while_another_transaction_holds_the_merchants_first_account(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, reward_id = await shop(community, unit, points_price=10, stock=100)
    phones = [(await member_with_points(community, unit, 100, name=f"周{n}"))[1] for n in range(4)]
    codes = await asyncio.gather(*(redeem(phone, reward_id) for phone in phones for _ in range(3)))
    assert len(await stripe_balances(sessions, merchant_id)) > 1, "a merchant is opened with several stripes"

    async with sessions() as holder, holder.begin():
        # A batch of fulfilments at this shop still writing: the stripe every quiet batch takes first.
        await holder.execute(
            text("SELECT id FROM ledger_accounts WHERE merchant_id = :m AND stripe = 0 FOR UPDATE"),
            {"m": uuid.UUID(merchant_id)},
        )
        responses = await asyncio.wait_for(
            asyncio.gather(*(clerk.post(FULFIL, json={"code": r["code"]}) for r in codes)), timeout=30
        )

    assert outcomes(list(responses)) == {(200, None): len(codes)}, [r.text for r in responses]
    balances = await stripe_balances(sessions, merchant_id)
    assert balances[0] == 0
    assert sum(balances.values()) == await merchant_balance(sessions, community, merchant_id) == 10 * len(codes)
    await assert_reconciles(sessions, community)


async def test_a_fulfilment_waits_for_a_stripe_when_every_one_is_taken(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, reward_id = await shop(community, unit, points_price=10)
    _, phone = await member_with_points(community, unit, 100)
    redemption = await redeem(phone, reward_id)

    async with sessions() as holder:
        async with holder.begin():
            await holder.execute(
                text("SELECT id FROM ledger_accounts WHERE merchant_id = :m FOR UPDATE"), {"m": uuid.UUID(merchant_id)}
            )
            fulfilling = asyncio.ensure_future(clerk.post(FULFIL, json={"code": redemption["code"]}))
            await asyncio.sleep(1)
            assert not fulfilling.done(), "a fulfilment was written without a lock on the merchant's account"
        response = await asyncio.wait_for(fulfilling, timeout=30)

    assert response.status_code == 200, response.text
    assert await merchant_balance(sessions, community, merchant_id) == 10
    assert await balance_of(phone) == (90, 0, 100)
    await assert_reconciles(sessions, community)
