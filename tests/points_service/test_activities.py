"""Activities end to end over HTTP: create, browse, sign up, cancel, check in and out with the rotating
code, confirm attendance, and the ledger lines that confirmation writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from points_service.activities.tokens import check_in_token
from tests.conftest import JWT_SECRET, Community

# -- helpers shared by the earning test modules ------------------------------------------------------


def at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def create_activity(
    staff: httpx.AsyncClient, unit: str, rule_code: str, starts_in: float = 10, lasts: float = 120, **fields: Any
) -> dict[str, Any]:
    body = {
        "org_unit_id": unit,
        "title": "清洁家园",
        "starts_at": at(starts_in),
        "ends_at": at(starts_in + lasts),
        "capacity": 20,
        "rule_code": rule_code,
        "place": "社区广场",
        **fields,
    }
    response = await staff.post("/api/v1/activities", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def member_phone(community: Community, unit: str, name: str = "张三") -> tuple[dict[str, Any], httpx.AsyncClient]:
    member = await community.member(unit, name=name, login=True)
    return member, await community.client_for(member["username"])


async def current_token(staff: httpx.AsyncClient, activity_id: str) -> str:
    response = await staff.get(f"/api/v1/activities/{activity_id}/check-in-code")
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def sign_up(phone: httpx.AsyncClient, activity_id: str, **body: Any) -> httpx.Response:
    return await phone.post(f"/api/v1/activities/{activity_id}/signups", json=body or None)


def code_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["code"])


async def ledger_lines(community: Community, member_id: str) -> list[tuple[str, int, str | None, str | None]]:
    return [
        (line["kind"], line["amount"], line["rule_code"], line["memo"]) for line in await community.ledger(member_id)
    ]


# -- create and browse --------------------------------------------------------------------------------


async def test_member_sees_activities_of_their_unit_and_its_ancestors_but_not_of_a_sibling(
    community: Community,
) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    rule = await community.rule(points=5)
    of_street = await create_activity(community.admin, street, rule)
    of_area = await create_activity(community.admin, area, rule)
    await create_activity(community.admin, sibling, rule)
    _, phone = await member_phone(community, area)

    listed = (await phone.get("/api/v1/activities")).json()["items"]

    assert {item["id"] for item in listed} == {of_street["id"], of_area["id"]}
    assert (await phone.get(f"/api/v1/activities/{of_street['id']}")).status_code == 200


async def test_member_cannot_sign_up_to_a_sibling_units_activity(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    activity = await create_activity(community.admin, sibling, await community.rule())
    _, phone = await member_phone(community, area)

    response = await sign_up(phone, activity["id"])

    assert response.status_code == 404 and code_of(response) == "not_found"


async def test_staff_outside_the_subtree_get_404_for_the_activity_and_its_code(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    activity = await create_activity(community.admin, area, await community.rule())
    outsider = await community.staff(sibling)

    for path in ("", "/check-in-code", "/check-in-code.svg", "/signups"):
        response = await outsider.get(f"/api/v1/activities/{activity['id']}{path}")
        assert response.status_code == 404, path
    confirm = await outsider.post(f"/api/v1/activities/{activity['id']}/confirm")
    assert confirm.status_code == 404
    create = await outsider.post(
        "/api/v1/activities",
        json={
            "org_unit_id": area,
            "title": "x",
            "starts_at": at(10),
            "ends_at": at(70),
            "capacity": 5,
            "rule_code": await community.rule(),
        },
    )
    assert create.status_code == 404


async def test_bad_activity_input_is_refused_with_clear_errors(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule()
    base = {"org_unit_id": unit, "title": "x", "starts_at": at(60), "ends_at": at(10), "capacity": 5, "rule_code": rule}

    backwards = await community.admin.post("/api/v1/activities", json=base)
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["field"] == "ends_at"
    too_big = await community.admin.post("/api/v1/activities", json={**base, "ends_at": at(90), "capacity": 5000})
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["field"] == "capacity"
    radius_only = await community.admin.post("/api/v1/activities", json={**base, "ends_at": at(90), "radius_m": 100})
    assert radius_only.status_code == 400 and radius_only.json()["errors"][0]["field"] == "radius_m"
    unknown_rule = await community.admin.post(
        "/api/v1/activities", json={**base, "ends_at": at(90), "rule_code": "NOPE"}
    )
    assert unknown_rule.status_code == 404


async def test_member_cannot_create_an_activity(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_phone(community, unit)
    response = await phone.post(
        "/api/v1/activities",
        json={
            "org_unit_id": unit,
            "title": "x",
            "starts_at": at(10),
            "ends_at": at(70),
            "capacity": 5,
            "rule_code": "R",
        },
    )
    assert response.status_code == 403


# -- sign up and cancel ---------------------------------------------------------------------------------


async def test_sign_up_twice_is_refused_and_cancel_gives_the_place_back(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(), capacity=1)
    _, phone = await member_phone(community, unit)
    _, other = await member_phone(community, unit, "李四")

    first = await sign_up(phone, activity["id"])
    assert first.status_code == 201 and first.json()["status"] == "signed_up" and first.json()["acted_by"] is None
    again = await sign_up(phone, activity["id"])
    assert again.status_code == 409 and code_of(again) == "already_signed_up"
    full = await sign_up(other, activity["id"])
    assert full.status_code == 409 and code_of(full) == "activity_full"

    cancelled = await phone.post(f"/api/v1/activities/{activity['id']}/signups/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await sign_up(other, activity["id"])).status_code == 201
    read = (await phone.get(f"/api/v1/activities/{activity['id']}")).json()
    assert (read["signed_up"], read["places_left"]) == (1, 0)


async def test_cancel_after_the_start_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(), starts_in=-5)
    _, phone = await member_phone(community, unit)
    assert (await sign_up(phone, activity["id"])).status_code == 201

    response = await phone.post(f"/api/v1/activities/{activity['id']}/signups/cancel")

    assert response.status_code == 409 and code_of(response) == "activity_started"


# -- check-in codes ------------------------------------------------------------------------------------


async def test_check_in_code_is_json_and_an_svg_qr(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule())

    code = (await community.admin.get(f"/api/v1/activities/{activity['id']}/check-in-code")).json()
    svg = await community.admin.get(f"/api/v1/activities/{activity['id']}/check-in-code.svg")

    assert code["qr_text"] == f"RP-CHECKIN:{activity['id']}:{code['token']}"
    assert datetime.fromisoformat(code["expires_at"]) > datetime.now(UTC)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text


async def test_check_in_with_the_current_or_previous_token_works_and_the_scanned_text_too(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule())
    _, phone = await member_phone(community, unit)
    _, other = await member_phone(community, unit, "李四")
    await sign_up(phone, activity["id"])
    await sign_up(other, activity["id"])
    previous = check_in_token(JWT_SECRET, activity["id"], datetime.now(UTC) - timedelta(seconds=60))
    scanned = (await community.admin.get(f"/api/v1/activities/{activity['id']}/check-in-code")).json()["qr_text"]

    by_previous = await phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": previous})
    by_scan = await other.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": scanned})

    assert by_previous.status_code == 200 and by_previous.json()["checked_in_at"] is not None
    assert by_scan.status_code == 200


async def test_a_rotated_or_forged_or_other_activitys_token_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule()
    activity = await create_activity(community.admin, unit, rule)
    other_activity = await create_activity(community.admin, unit, rule)
    _, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])
    rotated = check_in_token(JWT_SECRET, activity["id"], datetime.now(UTC) - timedelta(seconds=125))
    forged_secret = check_in_token("not-the-secret-" + "y" * 40, activity["id"], datetime.now(UTC))
    elsewhere = await current_token(community.admin, other_activity["id"])

    for token in (rotated, forged_secret, elsewhere, "AAAAAAAAAAAAAAAAAAAAAAAA"):
        response = await phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": token})
        assert response.status_code == 409 and code_of(response) == "invalid_check_in_token", token
    signups = (await community.admin.get(f"/api/v1/activities/{activity['id']}/signups")).json()["items"]
    assert [item["checked_in_at"] for item in signups] == [None]


async def test_check_in_outside_the_window_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule()
    later = await create_activity(community.admin, unit, rule, starts_in=60)
    over = await create_activity(community.admin, unit, rule, starts_in=-120, lasts=60)
    _, phone = await member_phone(community, unit)
    await sign_up(phone, later["id"])

    too_early = await phone.post(
        f"/api/v1/activities/{later['id']}/check-in", json={"token": await current_token(community.admin, later["id"])}
    )
    assert too_early.status_code == 409 and code_of(too_early) == "outside_check_in_window"
    assert "opens_at" in too_early.json()
    finished = await sign_up(phone, over["id"])
    assert finished.status_code == 409 and code_of(finished) == "activity_over"


async def test_check_in_opens_twenty_minutes_before_the_start(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(), starts_in=15)
    _, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])

    response = await phone.post(
        f"/api/v1/activities/{activity['id']}/check-in",
        json={"token": await current_token(community.admin, activity["id"])},
    )

    assert response.status_code == 200


async def test_check_in_far_from_the_place_is_refused_and_near_is_accepted(community: Community) -> None:
    unit = await community.org_unit()
    # 天安门广场; a point ~1.1 km north and one ~50 m away.
    activity = await create_activity(
        community.admin, unit, await community.rule(), latitude=39.9055, longitude=116.3976, radius_m=200
    )
    _, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])
    token = await current_token(community.admin, activity["id"])
    url = f"/api/v1/activities/{activity['id']}/check-in"

    no_place = await phone.post(url, json={"token": token})
    assert no_place.status_code == 400 and code_of(no_place) == "location_required"
    far = await phone.post(url, json={"token": token, "latitude": 39.9155, "longitude": 116.3976})
    assert far.status_code == 409 and code_of(far) == "too_far_away"
    assert 1000 < far.json()["distance_m"] < 1200 and far.json()["radius_m"] == 200
    near = await phone.post(url, json={"token": token, "latitude": 39.9059, "longitude": 116.3977})
    assert near.status_code == 200


async def test_check_in_without_signing_up_and_check_out_without_check_in_are_refused(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule())
    _, phone = await member_phone(community, unit)
    token = await current_token(community.admin, activity["id"])

    not_signed = await phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": token})
    assert not_signed.status_code == 409 and code_of(not_signed) == "not_signed_up"
    await sign_up(phone, activity["id"])
    out = await phone.post(f"/api/v1/activities/{activity['id']}/check-out", json={"token": token})
    assert out.status_code == 409 and code_of(out) == "not_checked_in"
    assert (await phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": token})).status_code == 200
    twice = await phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": token})
    assert twice.status_code == 409 and code_of(twice) == "already_checked_in"
    out = await phone.post(f"/api/v1/activities/{activity['id']}/check-out", json={"token": token})
    assert out.status_code == 200 and out.json()["checked_out_at"] is not None


# -- confirm attendance -----------------------------------------------------------------------------------


async def test_confirming_pays_hours_times_rule_to_everyone_who_came_and_penalises_no_shows(
    community: Community,
) -> None:
    unit = await community.org_unit()
    hourly = await community.rule(points=10, unit="hour")
    penalty = await community.rule(points=-5, category="penalty")
    # Started 30 minutes ago, ends in 90: two hours long.
    activity = await create_activity(community.admin, unit, hourly, starts_in=-30, lasts=120, no_show_rule_code=penalty)
    came, came_phone = await member_phone(community, unit, "张三")
    no_show, no_show_phone = await member_phone(community, unit, "李四")
    broke, broke_phone = await member_phone(community, unit, "王五")
    await community.adjust(no_show["id"], 20)
    for phone in (came_phone, no_show_phone, broke_phone):
        assert (await sign_up(phone, activity["id"])).status_code == 201
    token = await current_token(community.admin, activity["id"])
    assert (
        await came_phone.post(f"/api/v1/activities/{activity['id']}/check-in", json={"token": token})
    ).status_code == 200

    confirmed = await community.admin.post(f"/api/v1/activities/{activity['id']}/confirm")

    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    # Checked in after the start, never out: paid from check-in to the end, ~1.5 hours -> 15 points.
    [paid] = body["attended"]
    assert paid["member_id"] == came["id"] and 1.45 <= paid["hours"] <= 1.5
    assert body["points_total"] == round(paid["hours"] * 10)
    assert sorted(body["no_shows"]) == sorted([no_show["id"], broke["id"]])
    assert [item["member_id"] for item in body["penalised"]] == [no_show["id"]]
    assert body["penalty_skipped"] == [broke["id"]]
    assert await ledger_lines(community, came["id"]) == [("award", body["points_total"], hourly, "活动: 清洁家园")]
    assert (await ledger_lines(community, no_show["id"]))[0] == ("penalty", -5, penalty, "活动缺席: 清洁家园")
    assert await ledger_lines(community, broke["id"]) == []
    mine = (await came_phone.get("/api/v1/me/activities")).json()["items"]
    assert [(item["activity"]["id"], item["attended"], item["hours"]) for item in mine] == [
        (activity["id"], True, paid["hours"])
    ]


async def test_staff_correct_who_attended_and_the_hours(community: Community) -> None:
    unit = await community.org_unit()
    hourly = await community.rule(points=10, unit="hour")
    activity = await create_activity(community.admin, unit, hourly, starts_in=-50, lasts=60)
    checked_in, phone_a = await member_phone(community, unit, "张三")
    forgot_phone, phone_b = await member_phone(community, unit, "李四")
    for phone in (phone_a, phone_b):
        assert (await sign_up(phone, activity["id"])).status_code == 201

    confirmed = await community.admin.post(
        f"/api/v1/activities/{activity['id']}/confirm",
        json={"attendees": [{"member_id": checked_in["id"], "hours": 2.5}, {"member_id": forgot_phone["id"]}]},
    )

    assert confirmed.status_code == 200, confirmed.text
    paid = {item["member_id"]: item["hours"] for item in confirmed.json()["attended"]}
    assert paid == {checked_in["id"]: 2.5, forgot_phone["id"]: 1.0}
    assert [line[:2] for line in await ledger_lines(community, checked_in["id"])] == [("award", 25)]
    assert [line[:2] for line in await ledger_lines(community, forgot_phone["id"])] == [("award", 10)]


async def test_each_rule_pays_one_unit_and_confirming_again_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    each = await community.rule(points=8)
    activity = await create_activity(community.admin, unit, each, starts_in=-10)
    member, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])
    await phone.post(
        f"/api/v1/activities/{activity['id']}/check-in",
        json={"token": await current_token(community.admin, activity["id"])},
    )

    first = await community.admin.post(f"/api/v1/activities/{activity['id']}/confirm")
    again = await community.admin.post(f"/api/v1/activities/{activity['id']}/confirm")

    assert first.status_code == 200 and first.json()["points_total"] == 8
    assert again.status_code == 409 and code_of(again) == "already_confirmed"
    assert [line[:2] for line in await ledger_lines(community, member["id"])] == [("award", 8)]
    late = await phone.post(
        f"/api/v1/activities/{activity['id']}/check-out",
        json={"token": await current_token(community.admin, activity["id"])},
    )
    assert late.status_code == 409 and code_of(late) == "already_confirmed"


async def test_confirm_is_idempotent_with_a_key(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(points=8), starts_in=-10)
    member, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])
    await phone.post(
        f"/api/v1/activities/{activity['id']}/check-in",
        json={"token": await current_token(community.admin, activity["id"])},
    )
    url = f"/api/v1/activities/{activity['id']}/confirm"

    first = await community.admin.post(url, headers={"Idempotency-Key": "confirm-1"})
    replay = await community.admin.post(url, headers={"Idempotency-Key": "confirm-1"})

    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    assert len(await ledger_lines(community, member["id"])) == 1


async def test_a_member_cannot_confirm_attendance(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(), starts_in=-10)
    member, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])

    response = await phone.post(
        f"/api/v1/activities/{activity['id']}/confirm", json={"attendees": [{"member_id": member["id"]}]}
    )

    assert response.status_code == 403 and code_of(response) == "forbidden"
    assert await ledger_lines(community, member["id"]) == []


async def test_confirming_before_the_start_or_naming_someone_not_signed_up_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule()
    future = await create_activity(community.admin, unit, rule, starts_in=60)
    running = await create_activity(community.admin, unit, rule, starts_in=-10)
    stranger = await community.member(unit, "赵六")

    early = await community.admin.post(f"/api/v1/activities/{future['id']}/confirm")
    assert early.status_code == 409 and code_of(early) == "activity_not_started"
    unknown = await community.admin.post(
        f"/api/v1/activities/{running['id']}/confirm", json={"attendees": [{"member_id": stranger["id"]}]}
    )
    assert unknown.status_code == 409 and code_of(unknown) == "not_signed_up"
    assert await ledger_lines(community, stranger["id"]) == []


async def test_an_attendance_too_short_to_earn_a_point_is_recorded_without_failing_the_others(
    community: Community,
) -> None:
    unit = await community.org_unit()
    hourly = await community.rule(points=1, unit="hour")
    activity = await create_activity(community.admin, unit, hourly, starts_in=-10)
    brief, phone_a = await member_phone(community, unit, "张三")
    full, phone_b = await member_phone(community, unit, "李四")
    for phone in (phone_a, phone_b):
        await sign_up(phone, activity["id"])

    confirmed = await community.admin.post(
        f"/api/v1/activities/{activity['id']}/confirm",
        json={"attendees": [{"member_id": brief["id"], "hours": 0.2}, {"member_id": full["id"], "hours": 2}]},
    )

    assert confirmed.status_code == 200, confirmed.text
    attended = {item["member_id"]: item["transaction_id"] for item in confirmed.json()["attended"]}
    assert attended[brief["id"]] is None and attended[full["id"]] is not None
    assert await ledger_lines(community, brief["id"]) == []
    assert [line[:2] for line in await ledger_lines(community, full["id"])] == [("award", 2)]
