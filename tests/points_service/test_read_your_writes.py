"""A member always reads their own writes: an award the API has answered is in the very next balance
read, board and catalogue reads keep going on the same hot-read pool meanwhile (issue 19)."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import Community


async def test_an_answered_award_is_in_the_next_balance_read_under_concurrent_reads(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=7)
    members = [await community.member(unit, name=f"会员{i}", login=True) for i in range(6)]
    clients = [await community.client_for(member["username"]) for member in members]
    stop = asyncio.Event()

    async def other_reads(client: httpx.AsyncClient) -> int:
        # Board and catalogue reads from the same members, on the same pool as the balance reads.
        reads = 0
        while not stop.is_set():
            for path in ("/api/v1/leaderboards?limit=20", "/api/v1/rewards?limit=20", "/api/v1/me/balance"):
                answer = await client.get(path)
                assert answer.status_code == 200, answer.text
                reads += 1
        return reads

    async def award_then_read(member: dict[str, str], client: httpx.AsyncClient) -> list[int]:
        seen = []
        for round_ in range(1, 9):
            awarded = await community.award(member["id"], rule)
            assert awarded.status_code == 201, awarded.text
            balance = await client.get("/api/v1/me/balance")
            assert balance.status_code == 200, balance.text
            seen.append(balance.json()["available"])
            assert balance.json()["available"] == 7 * round_, (member["name"], seen)
            assert balance.json()["earned_this_month"] == 7 * round_
        return seen

    background = [asyncio.create_task(other_reads(client)) for client in clients[:3]]
    try:
        seen = await asyncio.gather(
            *(award_then_read(member, client) for member, client in zip(members, clients, strict=True))
        )
    finally:
        stop.set()
        other = await asyncio.gather(*background)
    assert seen == [[7 * n for n in range(1, 9)]] * len(members)
    assert all(reads > 0 for reads in other)
