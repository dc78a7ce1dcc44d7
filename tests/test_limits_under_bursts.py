"""Failure limits hold under concurrent bursts (docs/api.md, "Security"): an attempt is counted before
it is judged, so parallel guesses cannot all slip under the limit before any is recorded.

The login burst comes from an address of its own on the loopback network (127.0.x.y), so it spends
none of the 30 failures per address the rest of the suite shares on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import httpx

from tests.conftest import PASSWORD, Community
from tests.merchants.test_redemption_flow import shop

BURST = 24


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter((response.status_code, response.json()["code"]) for response in responses)


async def test_twenty_four_parallel_wrong_passwords_are_evaluated_at_most_five_times(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    address = f"127.0.{random.randint(1, 254)}.{random.randint(1, 254)}"
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=community.base_url, transport=transport, timeout=60) as client:
        burst = await asyncio.gather(
            *(
                client.post("/api/v1/auth/login", json={"username": member["username"], "password": f"wrong-{n}"})
                for n in range(BURST)
            )
        )
        right_password = await client.post(
            "/api/v1/auth/login", json={"username": member["username"], "password": PASSWORD}
        )

    counted = outcomes(burst)
    assert set(counted) <= {(401, "invalid_credentials"), (429, "too_many_attempts")}, counted
    assert 1 <= counted[(401, "invalid_credentials")] <= 5, counted
    assert all(int(response.headers["Retry-After"]) >= 1 for response in burst if response.status_code == 429)
    # Five failures lock the name, whatever order they arrived in.
    assert right_password.status_code == 429, right_password.text


async def test_forty_parallel_unknown_codes_are_looked_up_at_most_twenty_times(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, _ = await shop(community, unit)

    burst = await asyncio.gather(
        *(clerk.post("/api/v1/merchant/redemptions/verify", json={"code": f"ZZZZ-{n:04d}"}) for n in range(40))
    )

    counted = outcomes(burst)
    assert set(counted) <= {(404, "not_found"), (429, "too_many_attempts")}, counted
    assert 1 <= counted[(404, "not_found")] <= 20, counted


async def test_a_right_password_gives_its_attempt_back(community: Community) -> None:
    """Successful logins are not failures: many of them from one address never lock it."""
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    address = f"127.0.{random.randint(1, 254)}.{random.randint(1, 254)}"
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=community.base_url, transport=transport, timeout=60) as client:
        answers = [
            await client.post("/api/v1/auth/login", json={"username": member["username"], "password": PASSWORD})
            for _ in range(35)
        ]

    assert {response.status_code for response in answers} == {200}
