"""Claims (积分申报) end to end: a member files, staff of their subtree approve (the ledger pays once)
or reject with a reason; nobody decides their own claim; caps hold under concurrent approvals."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.conftest import Community
from tests.merchants.test_redemptions import Sessions, assert_reconciles
from tests.points_service.test_activities import code_of, ledger_lines, member_phone


async def file_claim(phone: httpx.AsyncClient, rule: str, quantity: float = 1, **body: Any) -> dict[str, Any]:
    response = await phone.post("/api/v1/claims", json={"rule_code": rule, "quantity": quantity, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_approved_claim_is_paid_once_and_the_member_sees_it(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=15, requires_approval=True)
    member, phone = await member_phone(community, unit)
    staff = await community.staff(unit)

    claim = await file_claim(phone, rule, note="调解邻里纠纷")
    assert claim["status"] == "pending" and claim["acted_by"] is None
    approved = await staff.post(f"/api/v1/claims/{claim['id']}/approve")
    again = await staff.post(f"/api/v1/claims/{claim['id']}/approve")

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["points"] == 15
    assert again.status_code == 409 and code_of(again) == "not_pending"
    assert await ledger_lines(community, member["id"]) == [("award", 15, rule, "调解邻里纠纷")]
    [mine] = (await phone.get("/api/v1/me/claims")).json()["items"]
    assert (mine["status"], mine["transaction_id"]) == ("approved", approved.json()["transaction_id"])


async def test_rejected_claim_needs_a_reason_and_pays_nothing(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=15, requires_approval=True)
    member, phone = await member_phone(community, unit)
    claim = await file_claim(phone, rule)

    no_reason = await community.admin.post(f"/api/v1/claims/{claim['id']}/reject", json={"reason": "  "})
    rejected = await community.admin.post(f"/api/v1/claims/{claim['id']}/reject", json={"reason": "材料不全"})
    approve_after = await community.admin.post(f"/api/v1/claims/{claim['id']}/approve")

    assert no_reason.status_code == 400
    assert rejected.status_code == 200 and rejected.json() == {
        "id": claim["id"],
        "status": "rejected",
        "reason": "材料不全",
    }
    assert approve_after.status_code == 409 and code_of(approve_after) == "not_pending"
    assert await ledger_lines(community, member["id"]) == []
    [mine] = (await phone.get("/api/v1/me/claims")).json()["items"]
    assert (mine["status"], mine["reason"]) == ("rejected", "材料不全")


async def test_a_rule_without_approval_cannot_be_claimed_and_bad_quantities_are_refused(community: Community) -> None:
    unit = await community.org_unit()
    direct = await community.rule(points=5)
    each = await community.rule(points=5, requires_approval=True)
    _, phone = await member_phone(community, unit)

    not_claimable = await phone.post("/api/v1/claims", json={"rule_code": direct})
    fractional = await phone.post("/api/v1/claims", json={"rule_code": each, "quantity": 1.5})
    too_many = await phone.post("/api/v1/claims", json={"rule_code": each, "quantity": 5000})

    assert not_claimable.status_code == 409 and code_of(not_claimable) == "approval_not_required"
    assert fractional.status_code == 400 and fractional.json()["errors"][0]["field"] == "quantity"
    assert too_many.status_code == 400


async def test_staff_outside_the_subtree_get_404_and_members_cannot_approve(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    area = await community.org_unit("一区", "area", street)
    sibling = await community.org_unit("二区", "area", street)
    rule = await community.rule(points=5, requires_approval=True)
    member, phone = await member_phone(community, area)
    claim = await file_claim(phone, rule)
    outsider = await community.staff(sibling)

    assert (await outsider.post(f"/api/v1/claims/{claim['id']}/approve")).status_code == 404
    assert (await outsider.post(f"/api/v1/claims/{claim['id']}/reject", json={"reason": "x"})).status_code == 404
    assert (await outsider.get(f"/api/v1/claims/{claim['id']}")).status_code == 404
    own = await phone.post(f"/api/v1/claims/{claim['id']}/approve")
    assert own.status_code == 403
    assert await ledger_lines(community, member["id"]) == []


async def test_staff_who_filed_a_claim_for_a_member_cannot_approve_it_themselves(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=5, requires_approval=True)
    member = await community.member(unit, "王奶奶")
    staff = await community.staff(unit)

    filed = await file_claim(staff, rule, member_id=member["id"])
    own = await staff.post(f"/api/v1/claims/{filed['id']}/approve")
    by_other = await community.admin.post(f"/api/v1/claims/{filed['id']}/approve")

    assert own.status_code == 403 and code_of(own) == "own_claim"
    assert by_other.status_code == 200
    [line] = await ledger_lines(community, member["id"])
    assert line[:2] == ("award", 5) and line[3] is not None and "代办" in line[3]


async def test_thirty_concurrent_approvals_stop_at_the_daily_cap(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10, requires_approval=True, daily_cap=50)
    member, phone = await member_phone(community, unit)
    claims = [await file_claim(phone, rule) for _ in range(30)]
    approvers = [community.admin, await community.staff(unit), await community.staff(unit)]

    responses = await asyncio.gather(
        *(approvers[i % 3].post(f"/api/v1/claims/{claim['id']}/approve") for i, claim in enumerate(claims))
    )

    codes = Counter((r.status_code, r.json().get("code") if r.status_code >= 400 else None) for r in responses)
    assert codes == {(200, None): 5, (409, "cap_reached"): 25}
    assert sum(line[1] for line in await ledger_lines(community, member["id"])) == 50
    statuses = Counter(item["status"] for item in (await phone.get("/api/v1/me/claims?limit=200")).json()["items"])
    assert statuses == {"approved": 5, "pending": 25}
    await assert_reconciles(sessions, community)


async def test_the_same_claim_approved_twenty_times_at_once_pays_once(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10, requires_approval=True)
    member, phone = await member_phone(community, unit)
    claim = await file_claim(phone, rule)
    approvers = [community.admin, await community.staff(unit)]

    responses = await asyncio.gather(
        *(approvers[i % 2].post(f"/api/v1/claims/{claim['id']}/approve") for i in range(20))
    )

    codes = Counter((r.status_code, r.json().get("code") if r.status_code >= 400 else None) for r in responses)
    assert codes == {(200, None): 1, (409, "not_pending"): 19}
    assert [line[:2] for line in await ledger_lines(community, member["id"])] == [("award", 10)]


async def test_approve_is_idempotent_with_a_key(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10, requires_approval=True)
    member, phone = await member_phone(community, unit)
    claim = await file_claim(phone, rule)
    url = f"/api/v1/claims/{claim['id']}/approve"

    first = await community.admin.post(url, headers={"Idempotency-Key": "approve-1"})
    replay = await community.admin.post(url, headers={"Idempotency-Key": "approve-1"})

    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    assert [line[:2] for line in await ledger_lines(community, member["id"])] == [("award", 10)]
