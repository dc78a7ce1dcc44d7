"""On behalf of others (代办): staff and appointed proxies sign up, check in and file claims for a
member; the member sees who acted; anyone else is refused as if the member did not exist."""

from __future__ import annotations

from tests.conftest import Community
from tests.points_service.test_activities import (
    code_of,
    create_activity,
    current_token,
    ledger_lines,
    member_phone,
    sign_up,
)
from tests.points_service.test_claims import file_claim


async def test_appointed_proxy_signs_up_and_checks_in_an_elderly_member_who_sees_it(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=6)
    activity = await create_activity(community.admin, unit, rule, starts_in=-10)
    elder, elder_phone = await member_phone(community, unit, "王奶奶")
    proxy, proxy_phone = await member_phone(community, unit, "李代办")
    appointed = await community.admin.post(
        "/api/v1/proxies", json={"proxy_member_id": proxy["id"], "member_id": elder["id"]}
    )
    assert appointed.status_code == 201, appointed.text

    signed = await sign_up(proxy_phone, activity["id"], member_id=elder["id"])
    checked = await proxy_phone.post(
        f"/api/v1/activities/{activity['id']}/check-in",
        json={"token": await current_token(community.admin, activity["id"]), "member_id": elder["id"]},
    )

    assert signed.status_code == 201 and signed.json()["member_id"] == elder["id"]
    assert checked.status_code == 200
    [mine] = (await elder_phone.get("/api/v1/me/activities")).json()["items"]
    # The member sees who acted for them; another member's name is masked.
    assert mine["acted_by"]["name"] == "李**" and mine["acted_by"]["account_id"]
    assert mine["checked_in_by"]["name"] == "李**"
    assert (await proxy_phone.get("/api/v1/me/activities")).json()["items"] == []
    confirmed = await community.admin.post(f"/api/v1/activities/{activity['id']}/confirm")
    assert [item["member_id"] for item in confirmed.json()["attended"]] == [elder["id"]]
    assert [line[:2] for line in await ledger_lines(community, elder["id"])] == [("award", 6)]
    assert await ledger_lines(community, proxy["id"]) == []


async def test_a_proxy_for_a_unit_acts_for_its_members_and_the_ledger_note_names_the_proxy(
    community: Community,
) -> None:
    street = await community.org_unit("街道", "street")
    building = await community.org_unit("3号楼", "group", street)
    rule = await community.rule(points=7, requires_approval=True)
    elder, elder_phone = await member_phone(community, building, "王奶奶")
    proxy, proxy_phone = await member_phone(community, street, "李代办")
    assert (
        await community.admin.post("/api/v1/proxies", json={"proxy_member_id": proxy["id"], "org_unit_id": building})
    ).status_code == 201

    claim = await file_claim(proxy_phone, rule, member_id=elder["id"], note="帮助邻居")
    approved = await community.admin.post(f"/api/v1/claims/{claim['id']}/approve")

    assert approved.status_code == 200
    assert claim["member_id"] == elder["id"] and claim["acted_by"]["name"] == "李**"
    [mine] = (await elder_phone.get("/api/v1/me/claims")).json()["items"]
    assert mine["acted_by"]["name"] == "李**" and mine["status"] == "approved"
    assert await ledger_lines(community, elder["id"]) == [("award", 7, rule, "帮助邻居 (代办: 李**)")]


async def test_staff_sign_up_and_file_for_members_of_their_subtree_only(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    rule = await community.rule(points=5, requires_approval=True)
    activity = await create_activity(community.admin, street, await community.rule())
    staff = await community.staff(area)
    ours, our_phone = await member_phone(community, area, "张三")
    theirs = await community.member(sibling, "赵六")

    assert (await sign_up(staff, activity["id"], member_id=ours["id"])).status_code == 201
    outside = await sign_up(staff, activity["id"], member_id=theirs["id"])
    assert outside.status_code == 404
    no_member = await sign_up(staff, activity["id"])
    assert no_member.status_code == 400 and code_of(no_member) == "validation_error"
    claim_outside = await staff.post("/api/v1/claims", json={"rule_code": rule, "member_id": theirs["id"]})
    assert claim_outside.status_code == 404
    [mine] = (await our_phone.get("/api/v1/me/activities")).json()["items"]
    assert mine["acted_by"]["role"] == "staff"


async def test_a_member_who_is_not_a_proxy_cannot_act_for_another(community: Community) -> None:
    unit = await community.org_unit()
    activity = await create_activity(community.admin, unit, await community.rule())
    rule = await community.rule(points=5, requires_approval=True)
    other = await community.member(unit, "王奶奶")
    _, phone = await member_phone(community, unit, "张三")

    signed = await sign_up(phone, activity["id"], member_id=other["id"])
    claimed = await phone.post("/api/v1/claims", json={"rule_code": rule, "member_id": other["id"]})

    assert signed.status_code == 404 and claimed.status_code == 404
    listed = (await community.admin.get(f"/api/v1/activities/{activity['id']}/signups")).json()["items"]
    assert listed == []


async def test_revoked_appointment_stops_the_proxy_and_staff_outside_cannot_appoint(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    activity = await create_activity(community.admin, area, await community.rule())
    elder = await community.member(area, "王奶奶")
    proxy, proxy_phone = await member_phone(community, area, "李代办")
    outsider = await community.staff(sibling)

    refused = await outsider.post("/api/v1/proxies", json={"proxy_member_id": proxy["id"], "member_id": elder["id"]})
    assert refused.status_code == 404
    both = await community.admin.post(
        "/api/v1/proxies", json={"proxy_member_id": proxy["id"], "member_id": elder["id"], "org_unit_id": area}
    )
    assert both.status_code == 400
    appointment = (
        await community.admin.post("/api/v1/proxies", json={"proxy_member_id": proxy["id"], "member_id": elder["id"]})
    ).json()
    listed = (await community.admin.get("/api/v1/proxies")).json()["items"]
    assert [item["id"] for item in listed] == [appointment["id"]]
    assert (await outsider.get("/api/v1/proxies")).json()["items"] == []
    assert (await community.admin.delete(f"/api/v1/proxies/{appointment['id']}")).status_code == 204

    response = await sign_up(proxy_phone, activity["id"], member_id=elder["id"])

    assert response.status_code == 404
