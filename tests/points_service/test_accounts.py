"""Accounts staff and users manage: a user's own new password, a staff reset that forces a change at the
next sign-in, and members, staff and clerks switched off. A change ends the account's other sessions
within 5 seconds, access tokens included, in every process (each remembers an account's state for a
moment only); the pair the change hands out works at once.

Failed logins count against 127.0.0.1 (30 per 15 minutes, shared with the other test files), so this
file spends only two of them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import PASSWORD, Community, ServedApp, Services, settings_for, unique
from tests.merchants.test_redemption_flow import shop
from tests.points_service.test_activities import create_activity, member_phone, sign_up
from tests.points_service.test_auth import assert_problem, login, me, refresh, tokens
from tests.points_service.test_leaderboards import build, ranking

NEW_PASSWORD = "a-new-and-long-one"
# The contract's promise; the service aims well inside it.
REVOKED_WITHIN_SECONDS = 5.0


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def change_password(
    client: httpx.AsyncClient, access_token: str, current: str, new: str = NEW_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(access_token),
    )


async def refused_within(client: httpx.AsyncClient, access_token: str) -> float:
    """Seconds until `access_token` answers 401 on `client`'s app; fails past the contract's 5 seconds."""
    started = time.monotonic()
    while True:
        response = await client.get("/api/v1/me", headers=bearer(access_token))
        elapsed = time.monotonic() - started
        if response.status_code == 401:
            return elapsed
        assert response.status_code == 200, response.text
        assert elapsed < REVOKED_WITHIN_SECONDS, f"the old token still works after {elapsed:.1f} s"
        await asyncio.sleep(0.2)


async def member_login(community: Community, unit: str | None = None, **fields: Any) -> dict[str, Any]:
    unit = unit or await community.org_unit()
    return await community.member(unit, login=True, **fields)


async def patch_member(client: httpx.AsyncClient, member_id: str, **fields: Any) -> httpx.Response:
    return await client.patch(f"/api/v1/admin/members/{member_id}", json=fields)


async def reset(client: httpx.AsyncClient, member_id: str) -> httpx.Response:
    return await client.post(f"/api/v1/admin/members/{member_id}/password-reset")


# -- a user's own password --------------------------------------------------------------------------


async def test_a_password_change_ends_the_other_sessions_in_every_process_while_the_fresh_pair_works(
    community: Community, services: Services
) -> None:
    member = await member_login(community)
    phone = await tokens(community, member["username"])
    tablet = await tokens(community, member["username"])
    with ServedApp(settings_for(services)) as other_process:
        async with httpx.AsyncClient(base_url=other_process.base_url, timeout=60) as elsewhere:
            # The other process has checked the tablet's token and remembers the account's state.
            assert (await elsewhere.get("/api/v1/me", headers=bearer(tablet["access_token"]))).status_code == 200

            changed = await change_password(community.anonymous, phone["access_token"], PASSWORD)
            assert changed.status_code == 200, changed.text
            fresh = changed.json()
            assert fresh["password_change_required"] is False
            assert fresh["role"] == "member"

            # The fresh pair works at once in both processes, although issued in the same second.
            assert (await me(community, fresh["access_token"])).status_code == 200
            assert (await elsewhere.get("/api/v1/me", headers=bearer(fresh["access_token"]))).status_code == 200
            assert await refused_within(elsewhere, tablet["access_token"]) < REVOKED_WITHIN_SECONDS
            assert await refused_within(community.anonymous, phone["access_token"]) < REVOKED_WITHIN_SECONDS
            assert (await elsewhere.get("/api/v1/me", headers=bearer(fresh["access_token"]))).status_code == 200

    assert_problem(await refresh(community, tablet["refresh_token"]), 401, "invalid_token")
    assert_problem(await refresh(community, phone["refresh_token"]), 401, "invalid_token")
    renewed = await refresh(community, fresh["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert (await me(community, renewed.json()["access_token"])).status_code == 200
    assert (await login(community, member["username"], NEW_PASSWORD)).status_code == 200


async def test_a_new_password_that_breaks_a_rule_is_refused_and_the_old_one_stays(community: Community) -> None:
    member = await member_login(community)
    session = await tokens(community, member["username"])
    access = session["access_token"]

    assert_problem(await change_password(community.anonymous, access, PASSWORD, "short77"), 400, "validation_error")
    assert_problem(await change_password(community.anonymous, access, PASSWORD, "x" * 129), 400, "validation_error")
    same_as_name = await change_password(community.anonymous, access, PASSWORD, member["username"].upper())
    assert_problem(same_as_name, 400, "validation_error")
    assert_problem(await change_password(community.anonymous, access, "not-my-password"), 400, "wrong_password")

    assert (await me(community, access)).status_code == 200
    assert (await refresh(community, session["refresh_token"])).status_code == 200
    assert (await login(community, member["username"])).status_code == 200


async def test_every_role_changes_its_own_password(community: Community) -> None:
    unit = await community.org_unit()
    staff_username = unique("s")
    created = await community.admin.post(
        "/api/v1/admin/staff",
        json={"username": staff_username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
    )
    assert created.status_code == 201, created.text
    clerk, _, _ = await shop(community, unit)
    clerk_username = (await clerk.get("/api/v1/me")).json()["username"]
    member = await member_login(community, unit)
    for username in (member["username"], clerk_username, staff_username, community.admin_username):
        session = await tokens(community, username)
        changed = await change_password(community.anonymous, session["access_token"], PASSWORD)
        assert changed.status_code == 200, changed.text
        back = await change_password(community.anonymous, changed.json()["access_token"], NEW_PASSWORD, PASSWORD)
        assert back.status_code == 200, back.text


# -- a reset, and the change it forces ---------------------------------------------------------------


async def test_a_reset_member_must_change_the_password_and_may_call_only_four_things_until_then(
    community: Community,
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="李四")  # no login yet
    staff = await community.staff(unit)

    answer = await reset(staff, member["id"])
    assert answer.status_code == 200, answer.text
    login_slip = answer.json()
    assert login_slip["username"] == member["phone"]
    assert len(login_slip["temporary_password"]) >= 8

    signed_in = await login(community, login_slip["username"], login_slip["temporary_password"])
    assert signed_in.status_code == 200, signed_in.text
    first = signed_in.json()
    assert first["password_change_required"] is True
    access = first["access_token"]

    assert (await me(community, access)).status_code == 200
    for method, path in (
        ("GET", "/api/v1/me/balance"),
        ("GET", "/api/v1/me/ledger"),
        ("GET", "/api/v1/leaderboards"),
        ("GET", "/api/v1/rewards"),
        ("POST", "/api/v1/me/redemptions"),
    ):
        refused = await community.anonymous.request(method, path, headers=bearer(access), json={})
        assert_problem(refused, 403, "password_change_required")
    renewed = await refresh(community, first["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["password_change_required"] is True
    assert_problem(
        await community.anonymous.get("/api/v1/me/balance", headers=bearer(renewed.json()["access_token"])),
        403,
        "password_change_required",
    )

    changed = await change_password(
        community.anonymous, renewed.json()["access_token"], login_slip["temporary_password"]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["password_change_required"] is False
    balance = await community.anonymous.get("/api/v1/me/balance", headers=bearer(changed.json()["access_token"]))
    assert balance.status_code == 200, balance.text
    assert (await login(community, member["phone"], NEW_PASSWORD)).json()["password_change_required"] is False
    assert (
        await community.anonymous.post("/api/v1/auth/logout", json={"refresh_token": first["refresh_token"]})
    ).status_code == 204


async def test_a_reset_ends_the_members_sessions_and_the_old_password(community: Community) -> None:
    member = await member_login(community)
    session = await tokens(community, member["username"])

    answer = await reset(community.admin, member["id"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == member["username"]

    assert await refused_within(community.anonymous, session["access_token"]) < REVOKED_WITHIN_SECONDS
    assert_problem(await refresh(community, session["refresh_token"]), 401, "invalid_token")
    assert_problem(await login(community, member["username"]), 401, "invalid_credentials")
    fresh = await login(community, member["username"], answer.json()["temporary_password"])
    assert fresh.json()["password_change_required"] is True


async def test_a_reset_whose_phone_is_another_accounts_username_is_a_conflict(community: Community) -> None:
    unit = await community.org_unit()
    without_login = await community.member(unit, name="王五")
    await community.member(unit, name="赵六", username=without_login["phone"], password=PASSWORD)

    assert_problem(await reset(community.admin, without_login["id"]), 409, "conflict")


# -- switched off -------------------------------------------------------------------------------------


async def test_a_switched_off_member_keeps_points_but_cannot_sign_in_earn_or_use_tokens(community: Community) -> None:
    unit = await community.org_unit()
    member = await member_login(community, unit)
    rule = await community.rule(points=10)
    assert (await community.award(member["id"], rule)).status_code == 201
    session = await tokens(community, member["username"])

    switched = await patch_member(community.admin, member["id"], active=False)
    assert switched.status_code == 200, switched.text
    assert switched.json()["active"] is False

    assert_problem(await login(community, member["username"], "wrong-password-here"), 401, "invalid_credentials")
    assert_problem(await login(community, member["username"]), 403, "account_disabled")
    assert await refused_within(community.anonymous, session["access_token"]) < REVOKED_WITHIN_SECONDS
    assert_problem(await refresh(community, session["refresh_token"]), 401, "invalid_token")
    assert_problem(await community.award(member["id"], rule), 409, "member_inactive")
    bulk = await community.admin.post(
        "/api/v1/admin/awards/bulk", json={"member_ids": [member["id"]], "rule_code": rule, "quantity": 1}
    )
    assert_problem(bulk, 409, "member_inactive")
    history = await community.ledger(member["id"])
    assert [line["amount"] for line in history] == [10]
    read = await community.admin.get(f"/api/v1/admin/members/{member['id']}")
    assert read.json()["active"] is False

    assert (await patch_member(community.admin, member["id"], active=True)).json()["active"] is True
    assert (await login(community, member["username"])).status_code == 200
    assert (await community.award(member["id"], rule)).status_code == 201


async def test_a_switched_off_member_is_not_paid_for_an_activity_they_signed_up_for(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(points=8), starts_in=-10)
    member, phone = await member_phone(community, unit)
    assert (await sign_up(phone, activity["id"])).status_code == 201
    assert (await patch_member(community.admin, member["id"], active=False)).status_code == 200

    confirmed = await community.admin.post(
        f"/api/v1/activities/{activity['id']}/confirm", json={"attendees": [{"member_id": member["id"]}]}
    )

    assert_problem(confirmed, 409, "member_inactive")
    assert await community.ledger(member["id"]) == []


async def test_a_switched_off_staff_member_cannot_sign_in_and_their_tokens_stop(community: Community) -> None:
    unit = await community.org_unit()
    username = unique("s")
    created = await community.admin.post(
        "/api/v1/admin/staff", json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"}
    )
    staff_id = created.json()["id"]
    session = await tokens(community, username)

    switched = await community.admin.patch(f"/api/v1/admin/staff/{staff_id}", json={"active": False})
    assert switched.status_code == 200, switched.text
    assert switched.json()["active"] is False

    assert_problem(await login(community, username), 403, "account_disabled")
    assert await refused_within(community.anonymous, session["access_token"]) < REVOKED_WITHIN_SECONDS
    assert_problem(await refresh(community, session["refresh_token"]), 401, "invalid_token")
    assert (await community.admin.patch(f"/api/v1/admin/staff/{staff_id}", json={"active": True})).status_code == 200
    assert (await login(community, username)).status_code == 200


async def test_staff_may_not_change_staff_accounts(community: Community) -> None:
    unit = await community.org_unit()
    staff = await community.staff(unit)
    me_answer = (await staff.get("/api/v1/me")).json()
    assert_problem(
        await staff.patch(f"/api/v1/admin/staff/{me_answer['id']}", json={"role": "admin"}), 403, "forbidden"
    )


async def test_a_move_to_another_unit_ends_a_staff_members_sessions(community: Community) -> None:
    left = await community.org_unit("东区")
    right = await community.org_unit("西区")
    username = unique("s")
    created = await community.admin.post(
        "/api/v1/admin/staff", json={"username": username, "password": PASSWORD, "org_unit_id": left, "role": "staff"}
    )
    session = await tokens(community, username)
    moved = await community.admin.patch(f"/api/v1/admin/staff/{created.json()['id']}", json={"org_unit_id": right})
    assert moved.status_code == 200, moved.text
    assert moved.json()["org_unit_id"] == right
    # The old token carried the old unit as its scope.
    assert await refused_within(community.anonymous, session["access_token"]) < REVOKED_WITHIN_SECONDS


async def test_a_switched_off_clerk_cannot_sign_in_and_their_tokens_stop(community: Community) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, _ = await shop(community, unit)
    clerk_me = (await clerk.get("/api/v1/me")).json()
    access = clerk.headers["Authorization"].removeprefix("Bearer ")

    switched = await community.admin.patch(
        f"/api/v1/admin/merchants/{merchant_id}/clerks/{clerk_me['id']}", json={"active": False}
    )
    assert switched.status_code == 200, switched.text
    assert switched.json() == {"id": clerk_me["id"], "username": clerk_me["username"], "active": False}

    assert_problem(await login(community, clerk_me["username"]), 403, "account_disabled")
    assert await refused_within(community.anonymous, access) < REVOKED_WITHIN_SECONDS
    other_merchant = (await shop(community, unit))[1]
    wrong_pair = await community.admin.patch(
        f"/api/v1/admin/merchants/{other_merchant}/clerks/{clerk_me['id']}", json={"active": True}
    )
    assert_problem(wrong_pair, 404, "not_found")


async def test_a_suspended_merchants_clerk_signs_in_and_reads_but_changes_nothing(community: Community) -> None:
    unit = await community.org_unit()
    clerk, merchant_id, reward_id = await shop(community, unit)
    clerk_me = (await clerk.get("/api/v1/me")).json()
    suspended = await community.admin.patch(f"/api/v1/admin/merchants/{merchant_id}", json={"status": "suspended"})
    assert suspended.status_code == 200, suspended.text

    again = await community.client_for(clerk_me["username"])
    assert (await again.get("/api/v1/merchant/rewards")).status_code == 200
    created = await again.post("/api/v1/merchant/rewards", json={"title": "面粉", "points_price": 10})
    assert_problem(created, 409, "merchant_suspended")
    edited = await again.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"points_price": 5})
    assert_problem(edited, 409, "merchant_suspended")


async def test_switched_off_members_leave_the_leaderboards(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10)
    first = await community.member(unit, name="第一名")
    second = await community.member(unit, name="第二名")
    assert (await community.award(first["id"], rule, 3)).status_code == 201
    assert (await community.award(second["id"], rule, 1)).status_code == 201
    await build(services, sessions, community)
    before = await ranking(community.admin, org_unit_id=unit)
    assert [item["member_id"] for item in before["items"]] == [first["id"], second["id"]]

    assert (await patch_member(community.admin, first["id"], active=False)).status_code == 200
    after = await ranking(community.admin, org_unit_id=unit)
    assert [item["member_id"] for item in after["items"]] == [second["id"]]
    assert after["items"][0]["rank"] == 1
    await build(services, sessions, community)
    rebuilt = await ranking(community.admin, org_unit_id=unit)
    assert [item["member_id"] for item in rebuilt["items"]] == [second["id"]]
    # A correction of their points publishes new totals; they stay off the boards all the same.
    assert (await community.adjust(first["id"], 5)).status_code == 201
    corrected = await ranking(community.admin, org_unit_id=unit)
    assert [item["member_id"] for item in corrected["items"]] == [second["id"]]


# -- editing members, and reach ----------------------------------------------------------------------


async def test_staff_edit_and_move_a_member_within_their_subtree(community: Community) -> None:
    community_unit = await community.org_unit("红旗社区")
    left = await community.org_unit("一支部", "branch", community_unit)
    right = await community.org_unit("二支部", "branch", community_unit)
    staff = await community.staff(community_unit)
    member = await community.member(left, name="孙七")
    phone = f"138{uuid.uuid4().int % 10**8:08d}"

    edited = await patch_member(
        staff,
        member["id"],
        name=" 孙七七 ",
        phone=phone,
        org_unit_id=right,
        party_status="retired",
        cadre_position="支部委员",
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["name"], body["phone"], body["org_unit_id"]) == ("孙七七", phone, right)
    assert (body["party_status"], body["cadre_position"], body["active"]) == ("retired", "支部委员", True)
    found = await staff.get("/api/v1/admin/members", params={"q": "sqq"})
    assert [item["id"] for item in found.json()["items"]] == [member["id"]]
    cleared = await patch_member(staff, member["id"], cadre_position=None)
    assert cleared.json()["cadre_position"] is None
    assert cleared.json()["name"] == "孙七七"


async def test_a_phone_another_member_holds_is_a_conflict(community: Community) -> None:
    unit = await community.org_unit()
    first = await community.member(unit)
    second = await community.member(unit)
    assert_problem(await patch_member(community.admin, second["id"], phone=first["phone"]), 409, "conflict")


async def test_staff_outside_the_members_subtree_get_not_found(community: Community) -> None:
    left = await community.org_unit("东区")
    right = await community.org_unit("西区")
    staff = await community.staff(left)
    theirs = await community.member(left)
    outsider = await community.member(right)

    assert_problem(await reset(staff, outsider["id"]), 404, "not_found")
    assert_problem(await patch_member(staff, outsider["id"], active=False), 404, "not_found")
    assert_problem(await patch_member(staff, theirs["id"], org_unit_id=right), 404, "not_found")
    read = await community.admin.get(f"/api/v1/admin/members/{outsider['id']}")
    assert read.json()["active"] is True
    assert (await community.admin.get(f"/api/v1/admin/members/{theirs['id']}")).json()["org_unit_id"] == left


async def test_a_token_older_than_the_account_state_is_refused_by_a_fresh_process(
    community: Community, services: Services
) -> None:
    member = await member_login(community)
    session = await tokens(community, member["username"])
    assert (await reset(community.admin, member["id"])).status_code == 200
    with ServedApp(settings_for(services)) as other_process:
        async with httpx.AsyncClient(base_url=other_process.base_url, timeout=60) as elsewhere:
            refused = await elsewhere.get("/api/v1/me", headers=bearer(session["access_token"]))
            assert_problem(refused, 401, "unauthenticated")
