"""Behind a reverse proxy on another machine: the login limits count the client the proxy saw, and
cookies stay Secure when the client spoke https to the proxy (POINTS_TRUSTED_PROXIES).

The "other machine" is another loopback address: the served app listens on 127.0.0.1 and the test's
clients connect from 127.0.0.2 (the trusted proxy) or from 127.0.0.3 (anyone else reaching the service
directly), which Linux routes like any loopback address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.rate_limit import ADDRESS_LIMIT
from points_service.settings import SettingsError, trusted_proxies
from tests.conftest import ServedApp, Services, new_community, settings_for, unique
from tests.test_secure_cookies import cookies_set_by_signing_in

PROXY = "127.0.0.2"
STRANGER = "127.0.0.3"


@pytest.fixture(scope="module")
def behind_proxy(services: Services) -> Iterator[ServedApp]:
    # A network and an address, as an operator would write them; 127.0.0.1 itself is not trusted.
    with ServedApp(settings_for(services, trusted_proxies=("10.20.0.0/16", PROXY))) as app:
        yield app


@pytest.fixture
async def redis(services: Services) -> AsyncIterator[Redis]:
    client = Redis.from_url(services.redis_url, decode_responses=True)
    yield client
    await client.aclose()


def client_from(app: ServedApp, local_address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=local_address)
    return httpx.AsyncClient(base_url=app.base_url, transport=transport, timeout=60)


async def wrong_password(client: httpx.AsyncClient, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    answer = await client.post(
        "/api/v1/auth/login", json={"username": unique("nobody"), "password": "wrong-password"}, headers=headers
    )
    return answer.status_code


async def test_clients_behind_a_trusted_proxy_are_limited_each_on_their_own(
    behind_proxy: ServedApp, redis: Redis
) -> None:
    locked_out, neighbour = "203.0.113.5", "198.51.100.7"
    # The proxy's own key may stand from an earlier sign-in that named no client (a count of 0).
    await redis.delete(f"login-fail:addr:{locked_out}", f"login-fail:addr:{neighbour}", f"login-fail:addr:{PROXY}")
    async with client_from(behind_proxy, PROXY) as proxy:
        assert await wrong_password(proxy, locked_out) == 401
        # Counted against the client the proxy names, not against the proxy.
        assert await redis.get(f"login-fail:addr:{locked_out}") == "1"
        assert await redis.get(f"login-fail:addr:{PROXY}") is None
        await redis.set(f"login-fail:addr:{locked_out}", ADDRESS_LIMIT, ex=600)
        assert await wrong_password(proxy, locked_out) == 429
        # Another client through the same proxy still gets to try.
        assert await wrong_password(proxy, neighbour) == 401
        # A proxy chain: the nearest address not trusted is the client (what precedes it may be forged).
        assert await wrong_password(proxy, f"6.6.6.6, {locked_out}, 10.20.3.4") == 429
    await redis.delete(f"login-fail:addr:{locked_out}", f"login-fail:addr:{neighbour}")


async def test_forwarded_headers_from_anyone_else_are_ignored(behind_proxy: ServedApp, redis: Redis) -> None:
    await redis.delete(f"login-fail:addr:{STRANGER}")
    async with client_from(behind_proxy, STRANGER) as stranger:
        assert await wrong_password(stranger, "198.51.100.8") == 401
        assert await redis.get(f"login-fail:addr:{STRANGER}") == "1"
        assert await redis.get("login-fail:addr:198.51.100.8") is None
        await redis.set(f"login-fail:addr:{STRANGER}", ADDRESS_LIMIT, ex=600)
        # A fresh forged address per try does not get round the limit.
        assert await wrong_password(stranger, "198.51.100.9") == 429
    await redis.delete(f"login-fail:addr:{STRANGER}")


async def test_cookies_stay_secure_when_the_client_spoke_https_to_a_trusted_proxy(
    behind_proxy: ServedApp, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with new_community(behind_proxy, sessions) as community:
        for address, proto, secure in ((PROXY, "https", True), (PROXY, "http", False), (STRANGER, "https", False)):
            async with client_from(behind_proxy, address) as web:
                web.headers["X-Forwarded-Proto"] = proto
                cookies = await cookies_set_by_signing_in(web, "/admin", community.admin_username)
                assert all(("; secure" in cookie.lower()) is secure for cookie in cookies), (address, cookies)


def test_the_setting_takes_addresses_and_networks_and_refuses_anything_else() -> None:
    assert trusted_proxies(" 10.0.0.5, 10.1.0.0/16 ,::1") == ("10.0.0.5", "10.1.0.0/16", "::1")
    with pytest.raises(SettingsError, match="POINTS_TRUSTED_PROXIES"):
        trusted_proxies("proxy.example.org")
