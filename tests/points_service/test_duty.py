"""Posts and shifts (岗位, 值守) end to end over HTTP: define a post, claim it, staff approve, schedule
weekly shifts, check in and out, verified hours paid once through the ledger under the rule's caps,
missed shifts counted."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import Community
from tests.merchants.test_redemptions import assert_reconciles
from tests.points_service.test_activities import code_of, ledger_lines, member_phone


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def create_post(staff: httpx.AsyncClient, unit: str, rule: str, name: str = "文明监督岗") -> dict[str, Any]:
    response = await staff.post(
        "/api/v1/posts",
        json={
            "org_unit_id": unit,
            "name": name,
            "rule_code": rule,
            "duty": "劝导不文明行为",
            "schedule": "每周六 9-11点",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def hourly_post(community: Community, **rule_fields: Any) -> tuple[str, str, dict[str, Any]]:
    """A community with a civility-watch post paying 10 points an hour: (unit, rule code, post)."""
    unit = await community.org_unit()
    rule = await community.rule(points=10, category="duty", unit="hour", **rule_fields)
    return unit, rule, await create_post(community.admin, unit, rule)


async def holder(community: Community, unit: str, post: dict[str, Any], name: str = "李四") -> tuple[Any, Any]:
    """A member who claimed the post and whom staff approved."""
    member, phone = await member_phone(community, unit, name)
    claim = await phone.post(f"/api/v1/posts/{post['id']}/claims")
    assert claim.status_code == 201, claim.text
    approved = await community.admin.post(f"/api/v1/post-claims/{claim.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    return member, phone


async def one_shift(staff: httpx.AsyncClient, post: dict[str, Any], member_id: str, start: float, end: float) -> str:
    response = await staff.post(
        f"/api/v1/posts/{post['id']}/shifts",
        json={"member_id": member_id, "windows": [{"starts_at": at(start), "ends_at": at(end)}]},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["items"][0]["id"])


async def backdate_check_in(sessions: async_sessionmaker[AsyncSession], shift_id: str, hours: float) -> None:
    """Stands in for the clock: the member checked in `hours` ago."""
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE shifts SET checked_in_at = now() - make_interval(secs => :s) WHERE id = :id"),
            {"s": hours * 3600, "id": uuid.UUID(shift_id)},
        )


async def test_a_member_claims_a_post_staff_approve_and_weekly_shifts_follow_local_time(community: Community) -> None:
    unit, _, post = await hourly_post(community)
    member, phone = await member_phone(community, unit)

    listed = (await phone.get("/api/v1/posts")).json()["items"]
    claim = await phone.post(f"/api/v1/posts/{post['id']}/claims")
    twice = await phone.post(f"/api/v1/posts/{post['id']}/claims")
    assert [p["name"] for p in listed] == ["文明监督岗"] and listed[0]["holders"] == 0
    assert claim.status_code == 201 and claim.json()["status"] == "pending"
    assert twice.status_code == 409 and code_of(twice) == "already_claimed"

    member_approves = await phone.post(f"/api/v1/post-claims/{claim.json()['id']}/approve")
    approved = await community.admin.post(f"/api/v1/post-claims/{claim.json()['id']}/approve")
    assert member_approves.status_code == 403
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    saturdays = {
        "member_id": member["id"],
        "weekday": 6,
        "start_time": "09:00",
        "end_time": "11:00",
        "first_day": "2030-03-04",
        "weeks": 4,
    }
    weekly = await community.admin.post(f"/api/v1/posts/{post['id']}/shifts", json=saturdays)
    again = await community.admin.post(f"/api/v1/posts/{post['id']}/shifts", json=saturdays)
    assert weekly.status_code == 201, weekly.text
    # Saturdays 9:00 Beijing time = 01:00 UTC, four weeks from the first Saturday on or after 4 March.
    starts = [item["starts_at"] for item in weekly.json()["items"]]
    assert starts == [f"2030-03-{day:02d}T01:00:00Z" for day in (9, 16, 23, 30)]
    assert again.json()["created"] == 0

    mine = await phone.get("/api/v1/me/shifts", params={"from": "2030-03-01T00:00:00Z", "to": "2030-04-01T00:00:00Z"})
    assert [s["status"] for s in mine.json()["items"]] == ["scheduled"] * 4
    [held] = (await phone.get("/api/v1/me/posts")).json()["items"]
    assert (held["status"], held["post"]["name"]) == ("approved", "文明监督岗")
    assert (await phone.get("/api/v1/posts")).json()["items"][0]["holders"] == 1


async def test_only_approved_holders_get_shifts_and_a_rejection_needs_a_reason(community: Community) -> None:
    unit, _, post = await hourly_post(community)
    member, phone = await member_phone(community, unit)
    claim = (await phone.post(f"/api/v1/posts/{post['id']}/claims")).json()

    not_yet = await community.admin.post(
        f"/api/v1/posts/{post['id']}/shifts",
        json={"member_id": member["id"], "windows": [{"starts_at": at(1), "ends_at": at(2)}]},
    )
    no_reason = await community.admin.post(f"/api/v1/post-claims/{claim['id']}/reject", json={"reason": " "})
    rejected = await community.admin.post(f"/api/v1/post-claims/{claim['id']}/reject", json={"reason": "已有人值守"})

    assert not_yet.status_code == 409 and code_of(not_yet) == "not_holder"
    assert no_reason.status_code == 400
    assert rejected.status_code == 200 and rejected.json()["reason"] == "已有人值守"
    # Rejected, they may claim again later.
    assert (await phone.post(f"/api/v1/posts/{post['id']}/claims")).status_code == 201


async def test_checked_out_shift_pays_verified_hours_once(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit, rule, post = await hourly_post(community)
    member, phone = await holder(community, unit, post)
    shift = await one_shift(community.admin, post, member["id"], -3, 1)

    checked_in = await phone.post(f"/api/v1/shifts/{shift}/check-in")
    again = await phone.post(f"/api/v1/shifts/{shift}/check-in")
    assert checked_in.status_code == 200 and checked_in.json()["status"] == "on_duty"
    assert again.status_code == 409 and code_of(again) == "already_checked_in"

    await backdate_check_in(sessions, shift, 2.1)
    out = await phone.post(f"/api/v1/shifts/{shift}/check-out")
    twice = await phone.post(f"/api/v1/shifts/{shift}/check-out")

    assert out.status_code == 200, out.text
    assert (out.json()["status"], out.json()["hours"], out.json()["points"]) == ("completed", 2.0, 20)
    assert twice.status_code == 409 and code_of(twice) == "already_checked_out"
    assert await ledger_lines(community, member["id"]) == [("award", 20, rule, "文明监督岗")]
    await assert_reconciles(sessions, community)


async def test_the_same_shift_checked_out_at_once_pays_once(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit, rule, post = await hourly_post(community)
    member, phone = await holder(community, unit, post)
    shift = await one_shift(community.admin, post, member["id"], -2, 1)
    assert (await phone.post(f"/api/v1/shifts/{shift}/check-in")).status_code == 200
    await backdate_check_in(sessions, shift, 1)

    responses = await asyncio.gather(*(phone.post(f"/api/v1/shifts/{shift}/check-out") for _ in range(10)))

    assert Counter(r.status_code for r in responses) == Counter({200: 1, 409: 9})
    assert await ledger_lines(community, member["id"]) == [("award", 10, rule, "文明监督岗")]
    assert (await community.balance(member))["available"] == 10
    await assert_reconciles(sessions, community)


async def test_a_daily_cap_holds_across_shifts_and_the_unpaid_shift_says_why(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit, _, post = await hourly_post(community, daily_cap=25)
    member, phone = await holder(community, unit, post)
    first = await one_shift(community.admin, post, member["id"], -3, 1)
    second = await one_shift(community.admin, post, member["id"], -2.5, 1)
    for shift in (first, second):
        assert (await phone.post(f"/api/v1/shifts/{shift}/check-in")).status_code == 200
        await backdate_check_in(sessions, shift, 2)

    paid = await phone.post(f"/api/v1/shifts/{first}/check-out")
    capped = await phone.post(f"/api/v1/shifts/{second}/check-out")

    assert paid.json()["points"] == 20
    assert capped.status_code == 200 and capped.json()["points"] == 0
    assert capped.json()["hours"] == 2.0 and capped.json()["unpaid_reason"].startswith("cap_reached")
    assert (await community.balance(member))["available"] == 20


async def test_check_in_only_inside_the_window_and_only_by_the_holder(community: Community) -> None:
    unit, _, post = await hourly_post(community)
    member, phone = await holder(community, unit, post)
    _, stranger = await member_phone(community, unit, "王五")
    later = await one_shift(community.admin, post, member["id"], 2, 4)
    now = await one_shift(community.admin, post, member["id"], -1, 1)

    too_early = await phone.post(f"/api/v1/shifts/{later}/check-in")
    not_theirs = await stranger.post(f"/api/v1/shifts/{now}/check-in")
    out_first = await phone.post(f"/api/v1/shifts/{now}/check-out")

    assert too_early.status_code == 409 and code_of(too_early) == "outside_shift_window"
    assert not_theirs.status_code == 404
    assert out_first.status_code == 409 and code_of(out_first) == "not_checked_in"


async def test_staff_verify_a_forgotten_check_out_and_a_missed_shift_counts_against_attendance(
    community: Community,
) -> None:
    street = await community.org_unit("街道", "street")
    unit = await community.org_unit("一社区", "community", street)
    sibling = await community.org_unit("二社区", "community", street)
    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, unit, rule)
    member, phone = await holder(community, unit, post)
    served = await one_shift(community.admin, post, member["id"], -30, -28)
    await one_shift(community.admin, post, member["id"], -10, -8)  # nobody came
    staff = await community.staff(unit)
    outsider = await community.staff(sibling)
    body = {"checked_in_at": at(-30), "checked_out_at": at(-28.5)}

    hidden = await outsider.post(f"/api/v1/shifts/{served}/verify", json=body)
    verified = await staff.post(f"/api/v1/shifts/{served}/verify", json=body)
    assert hidden.status_code == 404
    assert verified.status_code == 200 and (verified.json()["hours"], verified.json()["points"]) == (1.5, 15)

    mine = (await phone.get("/api/v1/me/shifts", params={"from": at(-48), "to": at(1)})).json()["items"]
    assert [s["status"] for s in mine] == ["completed", "missed"]
    rate = await community.admin.get(
        "/api/v1/duty/attendance", params={"org_unit_id": street, "from": at(-48), "to": at(1)}
    )
    assert rate.status_code == 200, rate.text
    assert rate.json()["items"] == [
        {"member_id": member["id"], "name": "李四", "due": 2, "attended": 1, "rate": 0.5, "hours": 1.5}
    ]


async def test_staff_check_in_and_out_for_an_elderly_holder_and_the_history_says_who_acted(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit, _, post = await hourly_post(community)
    member, phone = await holder(community, unit, post)
    shift = await one_shift(community.admin, post, member["id"], -2, 1)
    staff = await community.staff(unit)

    checked_in = await staff.post(f"/api/v1/shifts/{shift}/check-in", json={"member_id": member["id"]})
    assert checked_in.status_code == 200 and checked_in.json()["status"] == "on_duty"
    await backdate_check_in(sessions, shift, 1)
    out = await staff.post(f"/api/v1/shifts/{shift}/check-out", json={"member_id": member["id"]})

    assert out.status_code == 200 and out.json()["points"] == 10
    listed = (await staff.get(f"/api/v1/posts/{post['id']}/shifts", params={"from": at(-3), "to": at(2)})).json()
    assert listed["items"][0]["checked_in_by"] is not None
    [mine] = (await phone.get("/api/v1/me/shifts")).json()["items"]
    assert mine["checked_out_by"]["name"]  # the member sees someone acted for them
    [(kind, points, _, memo)] = await ledger_lines(community, member["id"])
    assert (kind, points) == ("award", 10) and memo.startswith("文明监督岗 (代办: ")
