"""In-service registration (双报到): in-service Party members register with their residential community;
staff see who registered and who took part in at least one activity in a period."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Community
from tests.points_service.test_activities import code_of, create_activity, member_phone, sign_up


async def in_service(community: Community, unit: str, name: str) -> tuple[dict[str, Any], httpx.AsyncClient]:
    member = await community.member(unit, name=name, login=True, party_status="in_service")
    return member, await community.client_for(member["username"])


async def test_registered_members_and_the_participation_rate_of_a_period(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    home = await community.org_unit("一社区", "community", street)
    elsewhere = await community.org_unit("二社区", "community", street)
    workplace = await community.org_unit("区税务局支部", "branch")
    active, active_phone = await in_service(community, workplace, "周一")
    quiet, _ = await in_service(community, workplace, "吴二")
    staff = await community.staff(home)

    mine = await active_phone.post(
        "/api/v1/registrations", json={"community_id": home, "workplace": "区税务局", "registered_on": "2026-03-01"}
    )
    by_staff = await staff.post(
        "/api/v1/registrations", json={"member_id": quiet["id"], "community_id": home, "workplace": "区税务局"}
    )
    not_theirs = await staff.post(
        "/api/v1/registrations", json={"member_id": quiet["id"], "community_id": elsewhere, "workplace": "区税务局"}
    )
    assert mine.status_code == 200, mine.text
    assert by_staff.status_code == 200, by_staff.text
    assert not_theirs.status_code == 404
    assert (await active_phone.get("/api/v1/me/registration")).json()["registered_on"] == "2026-03-01"

    activity = await create_activity(community.admin, home, await community.rule(), starts_in=-10)
    # Registered, they see and join their home community's activities although their unit is elsewhere.
    assert activity["id"] in [a["id"] for a in (await active_phone.get("/api/v1/activities")).json()["items"]]
    assert (await sign_up(active_phone, activity["id"])).status_code == 201
    confirmed = await community.admin.post(
        f"/api/v1/activities/{activity['id']}/confirm", json={"attendees": [{"member_id": active["id"]}]}
    )
    assert confirmed.status_code == 200, confirmed.text

    listed = await staff.get(
        "/api/v1/registrations", params={"org_unit_id": home, "from": "2026-01-01", "to": "2030-12-31"}
    )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert (body["registered"], body["took_part"], body["participation_rate"]) == (2, 1, 0.5)
    assert [(row["name"], row["took_part"]) for row in body["items"]] == [("吴二", False), ("周一", True)]
    earlier = await staff.get(
        "/api/v1/registrations", params={"org_unit_id": home, "from": "2020-01-01", "to": "2020-12-31"}
    )
    assert earlier.json()["took_part"] == 0


async def test_only_in_service_members_register_and_only_with_a_community(community: Community) -> None:
    home = await community.org_unit("一社区", "community")
    area = await community.org_unit("一区", "area", home)
    _, retired_phone = await member_phone(community, home)
    _, phone = await in_service(community, home, "郑三")

    not_in_service = await retired_phone.post("/api/v1/registrations", json={"community_id": home, "workplace": "x"})
    not_a_community = await phone.post("/api/v1/registrations", json={"community_id": area, "workplace": "x"})
    never = await retired_phone.get("/api/v1/me/registration")

    assert not_in_service.status_code == 409 and code_of(not_in_service) == "not_in_service"
    assert not_a_community.status_code == 400 and not_a_community.json()["errors"][0]["field"] == "community_id"
    assert never.status_code == 404
