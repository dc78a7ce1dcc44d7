"""Two-way feedback (双向反馈): residents rate a member's service through the rating link of that member's
sign-up, staff without one; averages per member; nobody else can rate."""

from __future__ import annotations

from tests.conftest import Community
from tests.points_service.test_activities import code_of, create_activity, member_phone, sign_up


async def test_residents_with_the_token_and_staff_rate_a_member_and_the_average_is_shown(
    community: Community,
) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule())
    member, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])
    links = (await community.admin.get(f"/api/v1/activities/{activity['id']}/feedback-token")).json()["links"]
    url = f"/api/v1/activities/{activity['id']}/feedback"

    assert [link["member_id"] for link in links] == [member["id"]]
    resident = await community.anonymous.post(
        url, json={"member_id": member["id"], "rating": 5, "comment": "很耐心", "token": links[0]["token"]}
    )
    by_staff = await community.admin.post(url, json={"member_id": member["id"], "rating": 3})

    assert [r.status_code for r in (resident, by_staff)] == [201, 201]
    average = (await community.admin.get(f"/api/v1/feedback/members/{member['id']}")).json()
    assert average == {"member_id": member["id"], "count": 2, "average": 4.0}
    assert (await phone.get("/api/v1/me/feedback")).json()["average"] == 4.0


async def test_without_a_valid_token_an_anonymous_rating_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule()
    activity = await create_activity(community.admin, unit, rule)
    other = await create_activity(community.admin, unit, rule)
    member, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])
    await sign_up(phone, other["id"])
    other_links = (await community.admin.get(f"/api/v1/activities/{other['id']}/feedback-token")).json()["links"]
    url = f"/api/v1/activities/{activity['id']}/feedback"

    missing = await community.anonymous.post(url, json={"member_id": member["id"], "rating": 5})
    wrong = await community.anonymous.post(
        url, json={"member_id": member["id"], "rating": 5, "token": other_links[0]["token"]}
    )
    made_up = await community.anonymous.post(url, json={"member_id": member["id"], "rating": 5, "token": "x.y"})
    by_member = await phone.post(url, json={"member_id": member["id"], "rating": 5})

    for response in (missing, wrong, made_up):
        assert response.status_code == 403 and code_of(response) == "invalid_feedback_token"
    assert by_member.status_code == 403 and code_of(by_member) == "self_rating"
    assert (await community.admin.get(f"/api/v1/feedback/members/{member['id']}")).json()["count"] == 0


async def test_ratings_outside_one_to_five_or_for_members_who_did_not_serve_are_refused(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule())
    member, phone = await member_phone(community, unit)
    bystander = await community.member(unit, "路人")
    await sign_up(phone, activity["id"])
    url = f"/api/v1/activities/{activity['id']}/feedback"

    six = await community.admin.post(url, json={"member_id": member["id"], "rating": 6})
    zero = await community.admin.post(url, json={"member_id": member["id"], "rating": 0})
    not_served = await community.admin.post(url, json={"member_id": bystander["id"], "rating": 5})

    assert six.status_code == 400 and six.json()["errors"][0]["field"] == "rating"
    assert zero.status_code == 400
    assert not_served.status_code == 404


async def test_staff_outside_the_subtree_cannot_rate_or_read_averages(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    activity = await create_activity(community.admin, area, await community.rule())
    member, phone = await member_phone(community, area)
    await sign_up(phone, activity["id"])
    outsider = await community.staff(sibling)

    rated = await outsider.post(
        f"/api/v1/activities/{activity['id']}/feedback", json={"member_id": member["id"], "rating": 1}
    )

    assert rated.status_code == 404
    assert (await outsider.get(f"/api/v1/feedback/members/{member['id']}")).status_code == 404


async def test_attendance_and_ratings_feed_the_evaluation_metrics(community: Community) -> None:
    from tests.points_service.test_activities import current_token

    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule(points=5), starts_in=-10)
    came, came_phone = await member_phone(community, unit, "甲")
    absent, absent_phone = await member_phone(community, unit, "乙")
    for phone in (came_phone, absent_phone):
        await sign_up(phone, activity["id"])
    await came_phone.post(
        f"/api/v1/activities/{activity['id']}/check-in",
        json={"token": await current_token(community.admin, activity["id"])},
    )
    assert (await community.admin.post(f"/api/v1/activities/{activity['id']}/confirm")).status_code == 200
    url = f"/api/v1/activities/{activity['id']}/feedback"
    for rating in (5, 4):
        assert (await community.admin.post(url, json={"member_id": came["id"], "rating": rating})).status_code == 201
    created = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": "志愿服务考评",
            "org_unit_id": unit,
            "target": "all",
            "period_start": "2020-01-01",
            "period_end": "2099-12-31",
            "metrics": [{"metric": "activities_attended", "weight": 1}, {"metric": "feedback_score", "weight": 1}],
            "top_n": 1,
        },
    )
    evaluation_id = created.json()["id"]

    run = await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/run")
    results = (await community.admin.get(f"/api/v1/admin/evaluations/{evaluation_id}/results")).json()["items"]

    assert run.status_code == 200 and run.json()["unsourced_metrics"] == []
    raw = {item["member_id"]: item["metrics"] for item in results}
    assert (raw[came["id"]]["activities_attended"], raw[came["id"]]["feedback_score"]) == (1, 4.5)
    # Nobody rated the absent member: no feedback score (left out of that metric), not a 0.
    assert (raw[absent["id"]]["activities_attended"], raw[absent["id"]]["feedback_score"]) == (0, None)
    assert results[0]["member_id"] == came["id"] and results[0]["top_n"] is True
