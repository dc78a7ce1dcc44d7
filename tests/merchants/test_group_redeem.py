"""Redemptions by group commit: members redeeming at the same moment share database transactions and
a popular reward's stock statement, and each still gets the answer it would have got alone."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import text

from merchants.redemptions import orders
from merchants.redemptions.codes import new_code, normalise
from merchants.redemptions.orders import RedemptionOrders
from merchants.redemptions.schemas import RedeemRequest
from merchants.redemptions.service import RedemptionService
from tests.conftest import Community
from tests.merchants.test_redemption_concurrency import outcomes
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import (
    Sessions,
    assert_reconciles,
    balance_of,
    catalogue_stock,
    member_with_points,
    my_statuses,
)


async def redemption_commits(sessions: Sessions, reward_id: str) -> tuple[int, int]:
    """(redemptions of the reward, database transactions that wrote them)."""
    async with sessions() as session:
        row = (
            await session.execute(
                text("SELECT count(*), count(DISTINCT xmin::text) FROM redemptions WHERE reward_id = :r"),
                {"r": uuid.UUID(reward_id)},
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_members_redeeming_at_once_share_transactions_and_each_gets_a_code(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    phones = [(await member_with_points(community, unit, 50, name=f"周{n}"))[1] for n in range(30)]
    _, _, reward_id = await shop(community, unit, points_price=20, stock=1000)

    responses = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}) for phone in phones)
    )

    assert [r.status_code for r in responses] == [201] * 30
    assert len({r.json()["code"] for r in responses}) == 30
    for phone, response in zip(phones[:5], responses[:5], strict=True):
        assert await balance_of(phone) == (30, 20, 50)
        assert await my_statuses(phone) == {response.json()["id"]: "pending"}
    assert await catalogue_stock(phones[0], reward_id) == 970
    written, commits = await redemption_commits(sessions, reward_id)
    assert written == 30
    assert commits < 30, "30 redemptions sent at once were committed one by one"
    await assert_reconciles(sessions, community)


async def test_each_refusal_among_members_redeeming_at_once_reaches_only_its_member(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    other_unit = await community.org_unit(name="东风社区")
    rich = [(await member_with_points(community, unit, 100, name=f"吴{n}"))[1] for n in range(6)]
    _, poor = await member_with_points(community, unit, 5, name="郑少")
    _, far = await member_with_points(community, other_unit, 100, name="王远")
    _, limited = await member_with_points(community, unit, 100, name="冯限")
    _, _, scarce = await shop(community, unit, points_price=10, stock=4)
    _, _, once = await shop(community, unit, points_price=10, per_member_limit=1)

    sent = {
        "scarce": [phone.post("/api/v1/me/redemptions", json={"reward_id": scarce}) for phone in rich],
        "poor": [poor.post("/api/v1/me/redemptions", json={"reward_id": scarce})],
        "far": [far.post("/api/v1/me/redemptions", json={"reward_id": once})],
        "limited": [limited.post("/api/v1/me/redemptions", json={"reward_id": once}) for _ in range(3)],
        "unknown": [limited.post("/api/v1/me/redemptions", json={"reward_id": str(uuid.uuid4())})],
    }
    kinds = [kind for kind, calls in sent.items() for _ in calls]
    responses = await asyncio.gather(*(call for calls in sent.values() for call in calls))
    by_kind: dict[str, list[httpx.Response]] = {}
    for kind, response in zip(kinds, responses, strict=True):
        by_kind.setdefault(kind, []).append(response)

    assert outcomes(by_kind["scarce"]) == {(201, None): 4, (409, "out_of_stock"): 2}
    # Refused for points before the stock is looked at: it takes none of the four.
    assert outcomes(by_kind["poor"]) == {(409, "insufficient_points"): 1}
    assert outcomes(by_kind["far"]) == {(409, "reward_unavailable"): 1}
    assert outcomes(by_kind["limited"]) == {(201, None): 1, (409, "limit_reached"): 2}
    assert outcomes(by_kind["unknown"]) == {(404, "not_found"): 1}
    assert await catalogue_stock(rich[0], scarce) == 0
    assert await balance_of(poor) == (5, 0, 5)
    assert await balance_of(far) == (100, 0, 100)
    assert await balance_of(limited) == (90, 10, 100)
    await assert_reconciles(sessions, community)


async def test_one_redemption_key_sent_five_times_at_once_redeems_once(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, points_price=30, stock=10)
    key = f"redeem-{uuid.uuid4()}"

    responses = await asyncio.gather(
        *(
            phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}, headers={"Idempotency-Key": key})
            for _ in range(5)
        )
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 4
    assert await balance_of(phone) == (70, 30, 100)
    assert await catalogue_stock(phone, reward_id) == 9
    await assert_reconciles(sessions, community)


async def test_a_code_already_in_use_is_drawn_again(
    community: Community, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, points_price=10)
    first = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()
    draws = iter([normalise(first["code"])])
    monkeypatch.setattr(orders, "new_code", lambda: next(draws, None) or new_code())

    second = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert second.status_code == 201, second.text
    assert normalise(second.json()["code"]) != normalise(first["code"])
    assert set((await my_statuses(phone)).values()) == {"pending"}
    assert len(await my_statuses(phone)) == 2
    assert await balance_of(phone) == (80, 20, 100)
    await assert_reconciles(sessions, community)


async def test_stock_taken_elsewhere_while_a_batch_writes_is_shared_out_one_by_one(
    community: Community, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch takes its stock while it writes, trusting the stock it read; when another process
    took some meanwhile, the batch is written again one by one and exactly what is left is redeemed."""
    unit = await community.org_unit()
    phones = [(await member_with_points(community, unit, 50, name=f"钱{n}"))[1] for n in range(6)]
    _, _, reward_id = await shop(community, unit, points_price=20, stock=6)
    read_terms = RedemptionOrders._terms_and_paths
    redeem_each = RedemptionService.redeem_each
    batch_sizes: list[int] = []
    taken_elsewhere: list[int] = []

    async def redeem_each_noting_size(self: RedemptionService, requests: list[RedeemRequest]) -> list[object]:
        batch_sizes.append(len(requests))
        return await redeem_each(self, requests)

    async def read_then_lose_stock(self: RedemptionOrders, requests: list[RedeemRequest]) -> object:
        terms = await read_terms(self, requests)
        if batch_sizes[-1] > 1 and not taken_elsewhere:
            taken_elsewhere.append(3)
            # On the app's own stock pool, as another process's batch would take it.
            async with self._stock._sessions() as side, side.begin():
                await side.execute(
                    text("UPDATE rewards SET stock = stock - 3 WHERE id = :r"), {"r": uuid.UUID(reward_id)}
                )
        return terms

    monkeypatch.setattr(RedemptionService, "redeem_each", redeem_each_noting_size)
    monkeypatch.setattr(RedemptionOrders, "_terms_and_paths", read_then_lose_stock)

    responses = await asyncio.gather(
        *(phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}) for phone in phones)
    )

    assert taken_elsewhere, f"no batch of several redemptions was written (batches: {batch_sizes})"
    assert outcomes(responses) == {(201, None): 3, (409, "out_of_stock"): 3}
    assert await catalogue_stock(phones[0], reward_id) == 0
    balances = sorted([await balance_of(phone) for phone in phones])
    assert balances == [(30, 20, 50)] * 3 + [(50, 0, 50)] * 3
    written, _ = await redemption_commits(sessions, reward_id)
    assert written == 3
    await assert_reconciles(sessions, community)
