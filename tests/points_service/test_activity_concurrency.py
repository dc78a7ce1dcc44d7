"""Real concurrent requests on activities: places are never oversold, attendance is paid once."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.conftest import Community
from tests.merchants.test_redemptions import Sessions, assert_reconciles
from tests.points_service.test_activities import create_activity, current_token, ledger_lines, member_phone, sign_up


def outcomes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    return Counter((r.status_code, r.json().get("code") if r.status_code >= 400 else None) for r in responses)


async def test_fifty_members_signing_up_at_once_for_twenty_places_make_exactly_twenty(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(), capacity=20)
    phones = [(await member_phone(community, unit, f"志愿者{i}"))[1] for i in range(50)]

    responses = await asyncio.gather(*(sign_up(phone, activity["id"]) for phone in phones))

    assert outcomes(responses) == {(201, None): 20, (409, "activity_full"): 30}
    listed = (await community.admin.get(f"/api/v1/activities/{activity['id']}/signups")).json()["items"]
    assert len(listed) == 20
    read = (await community.admin.get(f"/api/v1/activities/{activity['id']}")).json()
    assert (read["signed_up"], read["places_left"]) == (20, 0)


async def test_one_member_signing_up_ten_times_at_once_holds_one_place(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(), capacity=5)
    _, phone = await member_phone(community, unit)

    responses = await asyncio.gather(*(sign_up(phone, activity["id"]) for _ in range(10)))

    assert outcomes(responses) == {(201, None): 1, (409, "already_signed_up"): 9}
    assert (await community.admin.get(f"/api/v1/activities/{activity['id']}")).json()["signed_up"] == 1


async def test_confirming_attendance_twice_at_once_pays_each_attendee_once(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10, unit="hour")
    activity = await create_activity(community.admin, unit, rule, starts_in=-30, lasts=60)
    members = [await member_phone(community, unit, f"志愿者{i}") for i in range(10)]
    token = await current_token(community.admin, activity["id"])
    for _, phone in members:
        assert (await sign_up(phone, activity["id"])).status_code == 201
        checked = await phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": token})
        assert checked.status_code == 200
    other_staff = await community.staff(unit)

    responses = await asyncio.gather(
        community.admin.post(f"/api/v1/activities/{activity['id']}/confirm"),
        other_staff.post(f"/api/v1/activities/{activity['id']}/confirm"),
        community.admin.post(f"/api/v1/activities/{activity['id']}/confirm"),
    )

    assert outcomes(responses) == {(200, None): 1, (409, "already_confirmed"): 2}
    for member, _ in members:
        lines = await ledger_lines(community, member["id"])
        assert [(kind, rule_code) for kind, _, rule_code, _ in lines] == [("award", rule)]
    await assert_reconciles(sessions, community)
