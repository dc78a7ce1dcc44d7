"""Sign-in, refresh-token rotation, access-token checks and who may call what (docs/api.md, "Security").

Failed logins count against the client's address (30 per 15 minutes) and every test connects from
127.0.0.1, so this file spends few of them: one lockout test (5 failures) and two single failures.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.accounts import create_login
from points_service.auth.models import RefreshToken
from points_service.auth.principal import Principal
from points_service.auth.tokens import AccessTokens
from points_service.bootstrap import create_tenant
from points_service.errors import Unauthenticated
from tests.conftest import JWT_SECRET, PASSWORD, Community, ServedApp, unique

ISSUER = "red-points"
AUDIENCE = "red-points-api"
PROBLEM = "application/problem+json"


# -- helpers ----------------------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    for key in ("type", "title", "detail"):
        assert key in body, body
    return dict(body)


async def login(community: Community, username: str, password: str = PASSWORD) -> httpx.Response:
    return await community.anonymous.post("/api/v1/auth/login", json={"username": username, "password": password})


async def tokens(community: Community, username: str) -> dict[str, Any]:
    response = await login(community, username)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def refresh(community: Community, refresh_token: str) -> httpx.Response:
    return await community.anonymous.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def me(community: Community, access_token: str) -> httpx.Response:
    return await community.anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})


def admin_claims(community: Community) -> dict[str, Any]:
    """The claims of the token the admin client already holds (no extra, slow, Argon2 sign-in)."""
    return claims_of(community.admin.headers["Authorization"].removeprefix("Bearer "))


def claims_of(access_token: str) -> dict[str, Any]:
    return dict(jwt.decode(access_token, JWT_SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER))


def forge(claims: dict[str, Any], key: str | None = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


async def member_login(community: Community, **fields: Any) -> dict[str, Any]:
    unit = await community.org_unit()
    return await community.member(unit, login=True, **fields)


# -- login ------------------------------------------------------------------------------------------


async def test_login_answers_a_bearer_pair_with_role_and_at_most_15_minutes_of_life(community: Community) -> None:
    response = await login(community, community.admin_username)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["role"] == "admin"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    assert 0 < body["expires_in"] <= 900
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    claims = claims_of(body["access_token"])
    assert 0 < claims["exp"] - claims["iat"] <= 900


async def test_member_login_reports_the_member_role(community: Community) -> None:
    member = await member_login(community)

    body = await tokens(community, member["username"])

    assert body["role"] == "member"


async def test_login_with_wrong_password_is_refused_as_invalid_credentials(community: Community) -> None:
    response = await login(community, community.admin_username, "not-the-password")

    assert_problem(response, 401, "invalid_credentials")


async def test_login_with_unknown_username_is_refused_as_invalid_credentials(community: Community) -> None:
    response = await login(community, unique("nobody"), PASSWORD)

    assert_problem(response, 401, "invalid_credentials")


async def test_five_failed_logins_lock_the_username_even_for_the_right_password(community: Community) -> None:
    member = await member_login(community)
    username = member["username"]
    # The limiter counts the username case-insensitively, as login itself matches it.
    for attempt, spelling in enumerate([username, username.upper(), username, username.upper(), username]):
        response = await login(community, spelling, f"wrong-{attempt}")
        assert_problem(response, 401, "invalid_credentials")

    locked = await login(community, username, PASSWORD)

    assert_problem(locked, 429, "too_many_attempts")
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    # Only that username is locked: another account still signs in from the same address.
    assert (await login(community, community.admin_username)).status_code == 200


# -- refresh tokens ---------------------------------------------------------------------------------


async def test_refresh_answers_a_new_pair_that_works(community: Community) -> None:
    first = await tokens(community, community.admin_username)

    response = await refresh(community, first["refresh_token"])

    assert response.status_code == 200, response.text
    second = response.json()
    assert second["token_type"] == "Bearer"
    assert second["role"] == "admin"
    assert 0 < second["expires_in"] <= 900
    assert second["refresh_token"] != first["refresh_token"]
    assert (await me(community, second["access_token"])).status_code == 200
    third = await refresh(community, second["refresh_token"])
    assert third.status_code == 200, third.text


async def test_refresh_token_used_twice_is_refused_and_kills_its_successor(community: Community) -> None:
    first = await tokens(community, community.admin_username)
    successor = (await refresh(community, first["refresh_token"])).json()

    replayed = await refresh(community, first["refresh_token"])

    assert_problem(replayed, 401, "invalid_token")
    assert_problem(await refresh(community, successor["refresh_token"]), 401, "invalid_token")


async def test_reuse_revokes_only_its_own_family_not_other_sessions(community: Community) -> None:
    first = await tokens(community, community.admin_username)
    other_session = await tokens(community, community.admin_username)
    await refresh(community, first["refresh_token"])

    assert_problem(await refresh(community, first["refresh_token"]), 401, "invalid_token")

    assert (await refresh(community, other_session["refresh_token"])).status_code == 200


@pytest.mark.parametrize("garbage", ["garbage", "x" * 512, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
async def test_garbage_refresh_token_is_invalid_token(community: Community, garbage: str) -> None:
    assert_problem(await refresh(community, garbage), 401, "invalid_token")


async def test_logout_answers_204_and_the_refresh_token_stops_working(community: Community) -> None:
    pair = await tokens(community, community.admin_username)

    response = await community.anonymous.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})

    assert response.status_code == 204, response.text
    assert_problem(await refresh(community, pair["refresh_token"]), 401, "invalid_token")


# -- access tokens ----------------------------------------------------------------------------------


async def test_me_without_a_token_is_unauthenticated(community: Community) -> None:
    assert_problem(await community.anonymous.get("/api/v1/me"), 401, "unauthenticated")


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a.b.c", "Token abc"])
async def test_a_malformed_authorization_header_is_unauthenticated(community: Community, header: str) -> None:
    response = await community.anonymous.get("/api/v1/me", headers={"Authorization": header})

    assert_problem(response, 401, "unauthenticated")


async def test_a_token_forged_with_the_right_secret_is_accepted(community: Community) -> None:
    """Proves the forgery below is faithful, so each refusal is due to the one thing it changes."""
    claims = admin_claims(community)
    now = int(time.time())

    response = await me(community, forge({**claims, "iat": now, "exp": now + 300}))

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "admin"


def _expired(claims: dict[str, Any]) -> str:
    now = int(time.time())
    return forge({**claims, "iat": now - 1000, "exp": now - 100})


def _without(claim: str) -> Any:
    return lambda claims: forge({key: value for key, value in claims.items() if key != claim})


FORGERIES = {
    "expired": _expired,
    "signed_with_another_secret": lambda claims: forge(claims, key="another-secret-" + "y" * 40),
    "alg_none": lambda claims: forge(claims, key=None, algorithm="none"),
    "alg_none_with_our_signature_stripped": lambda claims: forge(claims).rsplit(".", 1)[0] + ".",
    "right_secret_other_algorithm": lambda claims: forge(claims, algorithm="HS384"),
    "without_exp": _without("exp"),
    "without_iat": _without("iat"),
    "without_sub": _without("sub"),
    "wrong_audience": lambda claims: forge({**claims, "aud": "someone-else"}),
    "wrong_issuer": lambda claims: forge({**claims, "iss": "someone-else"}),
    "sub_not_a_uuid": lambda claims: forge({**claims, "sub": "admin"}),
}


@pytest.mark.parametrize("forgery", list(FORGERIES), ids=list(FORGERIES))
async def test_a_forged_or_stale_access_token_is_unauthenticated(community: Community, forgery: str) -> None:
    claims = admin_claims(community)

    response = await me(community, FORGERIES[forgery](claims))

    assert_problem(response, 401, "unauthenticated")


async def test_a_member_token_forged_into_admin_role_is_refused(community: Community) -> None:
    member = await member_login(community)
    claims = claims_of((await tokens(community, member["username"]))["access_token"])
    tampered = forge({**claims, "role": "admin"}, key="not-our-secret-" + "z" * 40)

    response = await community.anonymous.get("/api/v1/admin/members", headers={"Authorization": f"Bearer {tampered}"})

    assert_problem(response, 401, "unauthenticated")


# -- roles and scope --------------------------------------------------------------------------------


async def test_a_member_calling_the_admin_api_is_forbidden(community: Community) -> None:
    member = await member_login(community)
    client = await community.client_for(member["username"])

    assert_problem(await client.get("/api/v1/admin/members"), 403, "forbidden")


async def test_a_member_cannot_award_themselves_points(community: Community) -> None:
    member = await member_login(community)
    rule = await community.rule(points=10)
    client = await community.client_for(member["username"])

    response = await client.post("/api/v1/admin/awards", json={"member_id": member["id"], "rule_code": rule})

    assert_problem(response, 403, "forbidden")
    assert await community.ledger(member["id"]) == []


class SiblingSubtrees:
    """A street with two communities; staff work in the first, the member lives in the second."""

    def __init__(
        self,
        community: Community,
        staff: httpx.AsyncClient,
        own_member: dict[str, Any],
        other_member: dict[str, Any],
        rule: str,
        own_unit: str,
    ) -> None:
        self.community = community
        self.staff = staff
        self.own_member = own_member
        self.other_member = other_member
        self.rule = rule
        self.own_unit = own_unit


@pytest.fixture
async def siblings(community: Community) -> SiblingSubtrees:
    street = await community.org_unit("东风街道", "street")
    own_unit = await community.org_unit("甲社区", "community", parent_id=street)
    other_unit = await community.org_unit("乙社区", "community", parent_id=street)
    own_member = await community.member(own_unit, "李四")
    other_member = await community.member(other_unit, "王五")
    rule = await community.rule(points=10)
    staff = await community.staff(own_unit)
    return SiblingSubtrees(community, staff, own_member, other_member, rule, own_unit)


async def test_staff_read_a_member_of_their_own_subtree(siblings: SiblingSubtrees) -> None:
    response = await siblings.staff.get(f"/api/v1/admin/members/{siblings.own_member['id']}")

    assert response.status_code == 200, response.text
    assert response.json()["id"] == siblings.own_member["id"]


async def test_staff_asking_for_a_member_of_a_sibling_subtree_get_not_found(siblings: SiblingSubtrees) -> None:
    response = await siblings.staff.get(f"/api/v1/admin/members/{siblings.other_member['id']}")

    assert_problem(response, 404, "not_found")


async def test_staff_asking_for_the_ledger_of_a_sibling_subtree_member_get_not_found(
    siblings: SiblingSubtrees,
) -> None:
    response = await siblings.staff.get(f"/api/v1/admin/members/{siblings.other_member['id']}/ledger")

    assert_problem(response, 404, "not_found")


async def test_staff_awarding_a_member_of_a_sibling_subtree_get_not_found_and_nothing_is_written(
    siblings: SiblingSubtrees,
) -> None:
    response = await siblings.staff.post(
        "/api/v1/admin/awards", json={"member_id": siblings.other_member["id"], "rule_code": siblings.rule}
    )

    assert_problem(response, 404, "not_found")
    assert await siblings.community.ledger(siblings.other_member["id"]) == []


async def test_staff_bulk_award_naming_a_sibling_subtree_member_writes_nothing(siblings: SiblingSubtrees) -> None:
    response = await siblings.staff.post(
        "/api/v1/admin/awards/bulk",
        json={"rule_code": siblings.rule, "member_ids": [siblings.own_member["id"], siblings.other_member["id"]]},
    )

    assert_problem(response, 404, "not_found")
    assert await siblings.community.ledger(siblings.own_member["id"]) == []
    assert await siblings.community.ledger(siblings.other_member["id"]) == []


async def test_staff_adjusting_a_member_of_a_sibling_subtree_get_not_found(siblings: SiblingSubtrees) -> None:
    response = await siblings.staff.post(
        "/api/v1/admin/adjustments", json={"member_id": siblings.other_member["id"], "amount": 5, "reason": "补录"}
    )

    assert_problem(response, 404, "not_found")
    assert await siblings.community.ledger(siblings.other_member["id"]) == []


async def test_staff_creating_a_top_level_org_unit_is_forbidden(siblings: SiblingSubtrees) -> None:
    response = await siblings.staff.post(
        "/api/v1/admin/org-units", json={"name": "新街道", "kind": "street", "parent_id": None}
    )

    assert_problem(response, 403, "forbidden")


async def test_staff_creating_a_rule_is_forbidden(siblings: SiblingSubtrees) -> None:
    code = unique("STAFF_RULE").upper().replace("-", "_")

    response = await siblings.staff.post(
        "/api/v1/admin/rules", json={"code": code, "name": "巡逻", "category": "duty", "points": 5, "unit": "each"}
    )

    assert_problem(response, 403, "forbidden")
    rules = (await siblings.community.admin.get("/api/v1/admin/rules")).json()["items"]
    assert code not in [rule["code"] for rule in rules]


async def test_staff_creating_staff_is_forbidden(siblings: SiblingSubtrees) -> None:
    username = unique("s")

    response = await siblings.staff.post(
        "/api/v1/admin/staff",
        json={"username": username, "password": PASSWORD, "org_unit_id": siblings.own_unit, "role": "staff"},
    )

    assert_problem(response, 403, "forbidden")
    # Nothing was created: the username is still free for an admin to take.
    taken = await siblings.community.admin.post(
        "/api/v1/admin/staff",
        json={"username": username, "password": PASSWORD, "org_unit_id": siblings.own_unit, "role": "staff"},
    )
    assert taken.status_code == 201, taken.text


async def test_staff_creating_an_admin_is_forbidden(siblings: SiblingSubtrees) -> None:
    response = await siblings.staff.post(
        "/api/v1/admin/staff",
        json={"username": unique("a"), "password": PASSWORD, "org_unit_id": None, "role": "admin"},
    )

    assert_problem(response, 403, "forbidden")


async def test_staff_reversing_a_transaction_is_forbidden_and_the_points_stay(siblings: SiblingSubtrees) -> None:
    award = await siblings.community.award(siblings.own_member["id"], siblings.rule)
    assert award.status_code == 201, award.text

    response = await siblings.staff.post(
        f"/api/v1/admin/transactions/{award.json()['transaction_id']}/reverse", json={"reason": "错发"}
    )

    assert_problem(response, 403, "forbidden")
    ledger = await siblings.community.ledger(siblings.own_member["id"])
    assert [line["kind"] for line in ledger] == ["award"]


@pytest.fixture
async def other_tenant(served: ServedApp, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Community]:
    """A second tenant with its own admin, made as the `community` fixture makes the first."""
    admin_username = unique("admin")
    async with sessions() as session, session.begin():
        tenant = await create_tenant(session, unique("街道"))
        await create_login(session, tenant.id, admin_username, PASSWORD, "admin")
    other = Community(served.base_url, tenant.id, admin_username)
    other.admin = await other.client_for(admin_username)
    try:
        yield other
    finally:
        await other.close()


async def test_an_admin_of_another_tenant_cannot_reach_this_tenants_member(
    community: Community, other_tenant: Community
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    their_rule = await other_tenant.rule(points=10)

    read = await other_tenant.admin.get(f"/api/v1/admin/members/{member['id']}")
    award = await other_tenant.admin.post(
        "/api/v1/admin/awards", json={"member_id": member["id"], "rule_code": their_rule}
    )
    adjust = await other_tenant.admin.post(
        "/api/v1/admin/adjustments", json={"member_id": member["id"], "amount": 5, "reason": "越权"}
    )
    in_unit = await other_tenant.admin.post(
        "/api/v1/admin/members", json={"name": "渗透", "phone": "13700000000", "org_unit_id": unit}
    )

    assert_problem(read, 404, "not_found")
    assert_problem(award, 404, "not_found")
    assert_problem(adjust, 404, "not_found")
    assert_problem(in_unit, 404, "not_found")
    assert await community.ledger(member["id"]) == []


async def test_a_refresh_token_is_found_in_its_own_tenant_only(community: Community, other_tenant: Community) -> None:
    pair = await tokens(community, community.admin_username)
    tenant_text, _, secret = pair["refresh_token"].partition(".")
    moved = f"{other_tenant.tenant_id.hex}.{secret}"

    assert tenant_text == community.tenant_id.hex
    assert_problem(await refresh(community, moved), 401, "invalid_token")
    assert (await refresh(community, pair["refresh_token"])).status_code == 200


async def test_a_refresh_token_issued_before_tokens_named_their_tenant_still_refreshes_and_logs_out(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await tokens(community, community.admin_username)
    admin_id = claims_of(first["access_token"])["sub"]
    older = [f"issued-before-{uuid.uuid4().hex}" for _ in range(2)]
    async with sessions() as session, session.begin():
        for token in older:
            session.add(
                RefreshToken(
                    tenant_id=community.tenant_id,
                    account_id=uuid.UUID(admin_id),
                    family_id=uuid.uuid4(),
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    expires_at=datetime.now(UTC) + timedelta(days=1),
                )
            )

    refreshed = await refresh(community, older[0])
    logout = await community.anonymous.post("/api/v1/auth/logout", json={"refresh_token": older[1]})

    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"].startswith(community.tenant_id.hex + ".")
    assert logout.status_code == 204
    assert_problem(await refresh(community, older[1]), 401, "invalid_token")


# -- the caller's own view --------------------------------------------------------------------------


async def test_me_for_a_member_shows_name_home_unit_party_status_and_cadre_position(community: Community) -> None:
    unit = await community.org_unit("红旗社区", "community")
    member = await community.member(unit, "欧阳娜娜", login=True, party_status="in_service", cadre_position="楼栋长")
    client = await community.client_for(member["username"])

    response = await client.get("/api/v1/me")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["role"] == "member"
    assert body["name"] == "欧阳娜娜"
    assert body["org_unit"] == {"id": unit, "name": "红旗社区"}
    assert body["party_status"] == "in_service"
    assert body["cadre_position"] == "楼栋长"


async def test_me_for_an_admin_shows_id_role_and_name(community: Community) -> None:
    response = await community.admin.get("/api/v1/me")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["role"] == "admin"
    assert body["id"]
    assert body["name"]


async def test_me_balance_for_an_admin_is_not_found(community: Community) -> None:
    assert_problem(await community.admin.get("/api/v1/me/balance"), 404, "not_found")


async def test_me_ledger_for_staff_is_not_found(siblings: SiblingSubtrees) -> None:
    assert_problem(await siblings.staff.get("/api/v1/me/ledger"), 404, "not_found")


def test_a_verified_token_is_refused_once_it_expires_even_when_remembered() -> None:
    tokens = AccessTokens("s" * 40, "red-points", "red-points-api", lifetime_seconds=1)
    principal = Principal(account_id=uuid.uuid4(), tenant_id=uuid.uuid4(), role="member", member_id=uuid.uuid4())
    token = tokens.issue(principal)
    assert tokens.decode(token) == principal
    assert tokens.decode(token) == principal

    time.sleep(2.1)

    with pytest.raises(Unauthenticated):
        tokens.decode(token)


def test_a_remembered_token_with_one_character_changed_is_refused() -> None:
    tokens = AccessTokens("s" * 40, "red-points", "red-points-api", lifetime_seconds=60)
    token = tokens.issue(Principal(account_id=uuid.uuid4(), tenant_id=uuid.uuid4(), role="admin"))
    tokens.decode(token)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"

    with pytest.raises(Unauthenticated):
        tokens.decode(forged)
