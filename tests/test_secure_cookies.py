"""Cookies marked Secure: every cookie of the three pages' sign-in, the CSRF cookie included, when the
client spoke https (here to a trusted proxy, which says so in X-Forwarded-Proto) or when
POINTS_SECURE_COOKIES is on over plain http (a TLS terminator the service is not told to believe);
neither over plain http by default.

Cookies are carried by hand: a client keeps a Secure cookie from going back over plain http, as a
browser would, while here the test itself plays the proxy that spoke https to the browser."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import PASSWORD, Community, ServedApp, Services, new_community, settings_for
from tests.merchants.test_merchant_page import counter

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def secure_by_setting(services: Services) -> Iterator[ServedApp]:
    with ServedApp(settings_for(services, secure_cookies=True)) as app:
        yield app


async def cookies_of_signing_in(base_url: str, path: str, username: str, proto: str | None) -> list[str]:
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=headers) as web:
        return await cookies_set_by_signing_in(web, path, username)


async def cookies_set_by_signing_in(web: httpx.AsyncClient, path: str, username: str) -> list[str]:
    """Every Set-Cookie of opening the sign-in form and signing in on the page at `path`."""
    form = await web.get(f"{path}/login")
    assert form.status_code == 200, form.text
    token = CSRF_FIELD.search(form.text)
    assert token, form.text
    set_by_form = form.headers.get_list("set-cookie")
    csrf_cookie = next(cookie.split(";")[0] for cookie in set_by_form if cookie.startswith("rp_csrf="))
    web.cookies.clear()
    signed_in = await web.post(
        f"{path}/login",
        data={"username": username, "password": PASSWORD, "_csrf_token": token.group(1)},
        headers={"Cookie": csrf_cookie},
    )
    assert signed_in.status_code == 303, signed_in.text
    assert "login" not in signed_in.headers["location"], signed_in.headers["location"]
    set_by_sign_in = signed_in.headers.get_list("set-cookie")
    assert any(cookie.startswith("rp_") and "_session=" in cookie for cookie in set_by_sign_in), set_by_sign_in
    return set_by_form + set_by_sign_in


async def users_of_the_three_pages(community: Community) -> dict[str, str]:
    shop = await counter(community)
    return {
        "/member": str(shop.member["username"]),
        "/merchant": shop.clerk_username,
        "/admin": community.admin_username,
    }


def secure(cookie: str) -> bool:
    return "secure" in [attribute.strip().lower() for attribute in cookie.split(";")[1:]]


async def test_the_setting_marks_every_cookie_secure_over_plain_http(
    secure_by_setting: ServedApp, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with new_community(secure_by_setting, sessions) as community:
        for path, username in (await users_of_the_three_pages(community)).items():
            cookies = await cookies_of_signing_in(secure_by_setting.base_url, path, username, proto=None)
            assert any(cookie.startswith("rp_csrf=") for cookie in cookies), cookies
            assert [cookie for cookie in cookies if not secure(cookie)] == [], path


async def test_https_spoken_to_a_trusted_proxy_marks_every_cookie_secure_and_plain_http_none(
    served: ServedApp, community: Community
) -> None:
    # The suite's app believes 127.0.0.1, the address the test connects from, as its proxy.
    for path, username in (await users_of_the_three_pages(community)).items():
        over_https = await cookies_of_signing_in(served.base_url, path, username, proto="https")
        over_http = await cookies_of_signing_in(served.base_url, path, username, proto=None)
        assert any(cookie.startswith("rp_csrf=") for cookie in over_https), over_https
        assert [cookie for cookie in over_https if not secure(cookie)] == [], path
        assert any(cookie.startswith("rp_csrf=") for cookie in over_http), over_http
        assert [cookie for cookie in over_http if secure(cookie)] == [], path
