"""Two-way feedback (双向反馈): residents rate a member's service with the organiser's feedback token,
staff without one; averages per member; nobody else can rate."""

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
    token = (await community.admin.get(f"/api/v1/activities/{activity['id']}/feedback-token")).json()["token"]
    url = f"/api/v1/activities/{activity['id']}/feedback"

    resident = await community.anonymous.post(url, json={"member_id": member["id"], "rating": 5, "token": token})
    second = await community.anonymous.post(
        url, json={"member_id": member["id"], "rating": 4, "comment": "很耐心", "token": token.lower()}
    )
    by_staff = await community.admin.post(url, json={"member_id": member["id"], "rating": 3})

    assert [r.status_code for r in (resident, second, by_staff)] == [201, 201, 201]
    average = (await community.admin.get(f"/api/v1/feedback/members/{member['id']}")).json()
    assert average == {"member_id": member["id"], "count": 3, "average": 4.0}
    assert (await phone.get("/api/v1/me/feedback")).json()["average"] == 4.0


async def test_without_a_valid_token_an_anonymous_rating_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule()
    activity = await create_activity(community.admin, unit, rule)
    other = await create_activity(community.admin, unit, rule)
    member, phone = await member_phone(community, unit)
    await sign_up(phone, activity["id"])
    other_token = (await community.admin.get(f"/api/v1/activities/{other['id']}/feedback-token")).json()["token"]
    url = f"/api/v1/activities/{activity['id']}/feedback"

    missing = await community.anonymous.post(url, json={"member_id": member["id"], "rating": 5})
    wrong = await community.anonymous.post(url, json={"member_id": member["id"], "rating": 5, "token": other_token})
    by_member = await phone.post(url, json={"member_id": member["id"], "rating": 5})

    for response in (missing, wrong, by_member):
        assert response.status_code == 403 and code_of(response) == "invalid_feedback_token"
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
