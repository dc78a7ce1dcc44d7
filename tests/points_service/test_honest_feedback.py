"""Honest feedback: a rating comes from someone who took part. A resident's link belongs to one sign-up
and rates once (25 tries count once); a member rates a fellow member once per activity and never
themself; staff ratings are recorded as staff; a member nobody rated is left out of `feedback_score`."""

from __future__ import annotations

import asyncio

from tests.conftest import Community
from tests.points_service.test_activities import code_of, create_activity, member_phone, sign_up


async def test_a_link_rates_once_a_member_once_per_member_and_nobody_rates_themself(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule())
    served, served_phone = await member_phone(community, unit, "甲")
    fellow, fellow_phone = await member_phone(community, unit, "乙")
    _, outsider_phone = await member_phone(community, unit, "丙")
    for phone in (served_phone, fellow_phone):
        assert (await sign_up(phone, activity["id"])).status_code == 201
    links = (await community.admin.get(f"/api/v1/activities/{activity['id']}/feedback-token")).json()["links"]
    link = next(item["token"] for item in links if item["member_id"] == served["id"])
    url = f"/api/v1/activities/{activity['id']}/feedback"
    body = {"member_id": served["id"], "rating": 5, "token": link}

    stuffed = await asyncio.gather(*(community.anonymous.post(url, json=body) for _ in range(25)))
    self_rated = await served_phone.post(url, json={"member_id": served["id"], "rating": 5})
    own_link = await served_phone.post(url, json=body)
    fellow_first = await fellow_phone.post(url, json={"member_id": served["id"], "rating": 3})
    fellow_again = await fellow_phone.post(url, json={"member_id": served["id"], "rating": 1})
    outsider = await outsider_phone.post(url, json={"member_id": served["id"], "rating": 1})
    by_staff = await community.admin.post(url, json={"member_id": served["id"], "rating": 4})

    codes = sorted(response.status_code for response in stuffed)
    assert codes == [201] + [409] * 24
    assert {code_of(r) for r in stuffed if r.status_code == 409} == {"already_rated"}
    assert (self_rated.status_code, code_of(self_rated)) == (403, "self_rating")
    assert (own_link.status_code, code_of(own_link)) == (403, "self_rating")
    assert fellow_first.status_code == 201
    assert (fellow_again.status_code, code_of(fellow_again)) == (409, "already_rated")
    assert (outsider.status_code, code_of(outsider)) == (403, "not_a_participant")
    assert by_staff.status_code == 201
    average = (await community.admin.get(f"/api/v1/feedback/members/{served['id']}")).json()
    assert (average["count"], average["average"]) == (3, 4.0)  # the link once (5), the fellow (3), staff (4)
    assert fellow["id"] != served["id"]


async def test_a_member_nobody_rated_is_left_out_of_feedback_not_scored_zero(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10)
    activity = await create_activity(community.admin, unit, rule)
    rated_well, rated_well_phone = await member_phone(community, unit, "甲")
    rated_poorly, rated_poorly_phone = await member_phone(community, unit, "乙")
    unrated, _ = await member_phone(community, unit, "丙")
    for phone in (rated_well_phone, rated_poorly_phone):
        await sign_up(phone, activity["id"])
    url = f"/api/v1/activities/{activity['id']}/feedback"
    assert (await community.admin.post(url, json={"member_id": rated_well["id"], "rating": 5})).status_code == 201
    assert (await community.admin.post(url, json={"member_id": rated_poorly["id"], "rating": 2})).status_code == 201
    for member, quantity in ((rated_well, 2), (rated_poorly, 2), (unrated, 1)):
        assert (await community.award(member["id"], rule, quantity=quantity)).status_code == 201
    created = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": "服务评价考评",
            "org_unit_id": unit,
            "target": "all",
            "period_start": "2020-01-01",
            "period_end": "2099-12-31",
            "metrics": [{"metric": "earned_points", "weight": 1}, {"metric": "feedback_score", "weight": 3}],
        },
    )
    base = f"/api/v1/admin/evaluations/{created.json()['id']}"
    await community.admin.post(f"{base}/run")

    results = (await community.admin.get(f"{base}/results")).json()
    breakdown = (await community.admin.get(f"{base}/results/{unrated['id']}")).json()

    scored = {item["member_id"]: item for item in results["items"]}
    assert results["excluded_metrics"] == []
    # 甲: earned 20 of 20 -> 100, feedback 5 of 5 -> 100; 乙: 100 and 40 -> (100 + 3 x 40) / 4 = 55;
    # 丙: earned 10 of 20 -> 50 and no feedback at all: scored on earned points alone, not at 0.
    assert (scored[rated_well["id"]]["score"], scored[rated_poorly["id"]]["score"]) == (100, 55)
    assert scored[unrated["id"]]["metrics"]["feedback_score"] is None
    assert "feedback_score" not in scored[unrated["id"]]["normalised"]
    assert scored[unrated["id"]]["score"] == 50
    assert [(m["metric"], m["counted"], m["left_out"]) for m in breakdown["metrics"]] == [
        ("earned_points", True, None),
        ("feedback_score", False, "no_value"),
    ]
