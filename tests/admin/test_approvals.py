"""The staff approvals queue: pending claims and attendance to confirm of the caller's subtree, oldest
first, cursor-paged; deciding an item takes it off the queue."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Community
from tests.points_service.test_activities import create_activity, member_phone, sign_up
from tests.points_service.test_claims import file_claim
from tests.points_service.test_duty import create_post
from tests.points_service.test_reports import report
from tests.points_service.test_wishes import post_wish


async def queue(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = await client.get(
            "/api/v1/admin/approvals", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_queue_lists_claims_and_ended_activities_of_the_subtree_oldest_first(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    rule = await community.rule(points=5, requires_approval=True)
    member, phone = await member_phone(community, area, "张三")
    _, sibling_phone = await member_phone(community, sibling, "赵六")
    ended = await create_activity(community.admin, area, await community.rule(), starts_in=-120, lasts=60)
    await create_activity(community.admin, area, await community.rule(), starts_in=-10)  # still running
    await create_activity(community.admin, sibling, await community.rule(), starts_in=-120, lasts=60)
    first = await file_claim(phone, rule, note="一")
    second = await file_claim(phone, rule, note="二")
    await file_claim(sibling_phone, rule)
    staff = await community.staff(area)

    items = await queue(staff, limit=1)

    assert [(item["kind"], item["id"]) for item in items] == [
        ("attendance", ended["id"]),
        ("claim", first["id"]),
        ("claim", second["id"]),
    ]
    claim_item = items[1]
    assert claim_item["member"] == {"id": member["id"], "name": "张三"}
    assert claim_item["unit"] == {"id": area, "name": "一区"}
    assert claim_item["link"] == f"/api/v1/claims/{first['id']}"
    assert items[0]["link"] == f"/api/v1/activities/{ended['id']}/confirm" and items[0]["member"] is None
    assert len(await queue(community.admin)) == 5  # both ended activities and all three claims
    assert [item["id"] for item in await queue(staff, kind="claim")] == [first["id"], second["id"]]


async def test_decided_items_leave_the_queue(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=5, requires_approval=True)
    _, phone = await member_phone(community, unit)
    activity = await create_activity(community.admin, unit, await community.rule(), starts_in=-60, lasts=50)
    approved = await file_claim(phone, rule)
    rejected = await file_claim(phone, rule)
    waiting = await file_claim(phone, rule)

    assert (await community.admin.post(f"/api/v1/claims/{approved['id']}/approve")).status_code == 200
    assert (
        await community.admin.post(f"/api/v1/claims/{rejected['id']}/reject", json={"reason": "重复申报"})
    ).status_code == 200
    assert (await community.admin.post(f"/api/v1/activities/{activity['id']}/confirm")).status_code == 200

    assert [item["id"] for item in await queue(community.admin)] == [waiting["id"]]


async def test_post_claims_fulfilled_wishes_and_new_reports_wait_in_the_queue_until_decided(
    community: Community,
) -> None:
    unit = await community.org_unit()
    post = await create_post(community.admin, unit, await community.rule(category="duty", unit="hour"))
    _, phone = await member_phone(community, unit, "张三")
    claim = (await phone.post(f"/api/v1/posts/{post['id']}/claims")).json()
    wish = await post_wish(community.admin, unit, rule_code=await community.rule(category="wish"))
    await phone.post(f"/api/v1/wishes/{wish['id']}/claim")
    await phone.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"note": "已完成"})
    filed = await report(phone)

    waiting = [(item["kind"], item["id"], item["member"]["name"]) for item in await queue(community.admin)]
    assert waiting == [
        ("post_claim", claim["id"], "张三"),
        ("wish", wish["id"], "张三"),
        ("report", filed["id"], "张三"),
    ]

    assert (await community.admin.post(f"/api/v1/post-claims/{claim['id']}/approve")).status_code == 200
    assert (await community.admin.post(f"/api/v1/wishes/{wish['id']}/verify")).status_code == 200
    assert (await community.admin.post(f"/api/v1/reports/{filed['id']}/accept")).status_code == 200
    assert await queue(community.admin) == []


async def test_members_cannot_read_the_queue_and_bad_parameters_are_refused(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_phone(community, unit)
    activity = await create_activity(community.admin, unit, await community.rule(), starts_in=5)
    await sign_up(phone, activity["id"])

    assert (await phone.get("/api/v1/admin/approvals")).status_code == 403
    unknown_kind = await community.admin.get("/api/v1/admin/approvals", params={"kind": "nonsense"})
    assert unknown_kind.status_code == 400 and unknown_kind.json()["errors"][0]["field"] == "kind"
    bad_cursor = await community.admin.get("/api/v1/admin/approvals", params={"cursor": "garbage"})
    assert bad_cursor.status_code == 400
    assert (await community.admin.get("/api/v1/admin/approvals", params={"limit": 0})).status_code == 400
