"""Every API answer says `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`: answers carry
personal data and tokens (a security audit found neither header), refusals and unknown paths too."""

from __future__ import annotations

import httpx

from tests.conftest import PASSWORD, Community


def guarded(answer: httpx.Response) -> bool:
    return answer.headers.get("cache-control") == "no-store" and answer.headers.get("x-content-type-options") == (
        "nosniff"
    )


async def test_api_answers_are_not_stored_or_sniffed_whatever_their_status(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    phone = await community.client_for(member["username"])

    answers = {
        "login": await community.anonymous.post(
            "/api/v1/auth/login", json={"username": member["username"], "password": PASSWORD}
        ),
        "balance": await phone.get("/api/v1/me/balance"),
        "member": await community.admin.get(f"/api/v1/admin/members/{member['id']}"),
        "unauthenticated": await community.anonymous.get("/api/v1/me/balance"),
        "unknown path": await phone.get("/api/v1/no-such-thing"),
    }

    assert [answer.status_code for answer in answers.values()] == [200, 200, 200, 401, 404]
    assert [name for name, answer in answers.items() if not guarded(answer)] == []


async def test_answers_outside_the_api_keep_their_own_headers(community: Community) -> None:
    live = await community.anonymous.get("/health/live")

    assert live.status_code == 200
    assert live.headers.get("cache-control") != "no-store"
