"""Many members signing in at once (a morning rush): every login succeeds, and no more Argon2
computations run at once than the process allows (each holds 64 MiB while it runs)."""

from __future__ import annotations

import asyncio
import random
import threading

import httpx

from points_service.auth.passwords import THREAD_NAME
from points_service.settings import Settings
from tests.conftest import PASSWORD, Community

STORM = 24


async def test_concurrent_logins_all_succeed_with_hashing_bounded_per_process(community: Community) -> None:
    unit = await community.org_unit()
    members = [await community.member(unit, login=True) for _ in range(STORM)]
    # An address of its own on the loopback network: logins in flight count against an address's limit.
    address = f"127.0.{random.randint(1, 254)}.{random.randint(1, 254)}"
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=community.base_url, transport=transport, timeout=120) as client:
        storm = await asyncio.gather(
            *(
                client.post("/api/v1/auth/login", json={"username": member["username"], "password": PASSWORD})
                for member in members
            )
        )
        tokens = [answer.json().get("access_token") for answer in storm]
        balances = await asyncio.gather(
            *(client.get("/api/v1/me/balance", headers={"Authorization": f"Bearer {token}"}) for token in tokens)
        )

    assert [answer.status_code for answer in storm] == [200] * STORM, [a.text for a in storm if a.status_code != 200]
    assert {answer.status_code for answer in balances} == {200}
    hashing = [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)]
    assert 1 <= len(hashing) <= Settings().password_hashing_threads
