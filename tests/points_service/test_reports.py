"""Problem reports (民情上报) end to end: filed by a member, accepted (the reporter paid once), escalated
one level at a time up the org tree, resolved (the credited member paid once), and counted per period."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.conftest import Community
from tests.points_service.test_activities import code_of, ledger_lines, member_phone


async def report(phone: httpx.AsyncClient, category: str = "hazard", **body: Any) -> dict[str, Any]:
    response = await phone.post(
        "/api/v1/reports",
        json={"category": category, "place": "3号楼东侧", "description": "路灯坏了", **body},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_report_is_accepted_escalated_and_resolved_paying_each_step_once(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    neighbourhood = await community.org_unit("一社区", "community", street)
    area = await community.org_unit("一区", "area", neighbourhood)
    accept_rule = await community.rule(points=5, category="report")
    resolve_rule = await community.rule(points=20, category="report")
    member, phone = await member_phone(community, area)
    grid_worker = await community.member(area, name="网格员")
    area_staff = await community.staff(area)
    community_staff = await community.staff(neighbourhood)

    filed = await report(phone)
    accepted = await area_staff.post(f"/api/v1/reports/{filed['id']}/accept", json={"rule_code": accept_rule})
    again = await area_staff.post(f"/api/v1/reports/{filed['id']}/accept", json={"rule_code": accept_rule})
    assert accepted.status_code == 200 and (accepted.json()["status"], accepted.json()["points"]) == ("accepted", 5)
    assert again.status_code == 409 and code_of(again) == "wrong_status"

    escalated = await area_staff.post(f"/api/v1/reports/{filed['id']}/escalate", json={"note": "需社区协调"})
    assert escalated.json()["handling_unit_id"] == neighbourhood
    # Escalated past them, the area's staff still see it but no longer decide it.
    assert (await area_staff.get(f"/api/v1/reports/{filed['id']}")).status_code == 200
    too_low = await area_staff.post(f"/api/v1/reports/{filed['id']}/resolve", json={"resolution": "x"})
    assert too_low.status_code == 409

    resolved = await community_staff.post(
        f"/api/v1/reports/{filed['id']}/resolve",
        json={"resolution": "已更换灯泡", "rule_code": resolve_rule, "member_id": grid_worker["id"]},
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["points"]) == ("resolved", 20)

    assert await ledger_lines(community, member["id"]) == [("award", 5, accept_rule, "民情上报: 3号楼东侧")]
    assert await ledger_lines(community, grid_worker["id"]) == [("award", 20, resolve_rule, "民情办结: 3号楼东侧")]
    trail = (await phone.get(f"/api/v1/reports/{filed['id']}")).json()["events"]
    assert [(e["action"], e["unit_id"]) for e in trail] == [
        ("filed", area),
        ("accepted", area),
        ("escalated", neighbourhood),
        ("resolved", neighbourhood),
    ]


async def test_escalation_stops_at_the_top_and_rejection_needs_a_reason(community: Community) -> None:
    top = await community.org_unit("区", "district")
    _, phone = await member_phone(community, top)
    filed = await report(phone)

    at_top = await community.admin.post(f"/api/v1/reports/{filed['id']}/escalate")
    no_reason = await community.admin.post(f"/api/v1/reports/{filed['id']}/reject", json={"reason": ""})
    rejected = await community.admin.post(f"/api/v1/reports/{filed['id']}/reject", json={"reason": "重复上报"})

    assert at_top.status_code == 409 and code_of(at_top) == "top_level"
    assert no_reason.status_code == 400
    assert rejected.json()["status"] == "rejected"


async def test_members_see_only_their_own_reports_and_staff_only_their_subtree(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    one = await community.org_unit("一社区", "community", street)
    two = await community.org_unit("二社区", "community", street)
    _, phone = await member_phone(community, one)
    _, other = await member_phone(community, one, "孙八")
    filed = await report(phone)
    outsider = await community.staff(two)

    assert (await other.get(f"/api/v1/reports/{filed['id']}")).status_code == 404
    assert (await outsider.get(f"/api/v1/reports/{filed['id']}")).status_code == 404
    assert (await outsider.post(f"/api/v1/reports/{filed['id']}/accept")).status_code == 404
    assert [r["id"] for r in (await phone.get("/api/v1/reports")).json()["items"]] == [filed["id"]]
    assert (await other.get("/api/v1/reports")).json()["items"] == []


async def test_accepting_at_once_pays_the_reporter_once(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=5, category="report")
    member, phone = await member_phone(community, unit)
    filed = await report(phone)

    responses = await asyncio.gather(
        *(community.admin.post(f"/api/v1/reports/{filed['id']}/accept", json={"rule_code": rule}) for _ in range(8))
    )

    assert Counter(r.status_code for r in responses) == Counter({200: 1, 409: 7})
    assert await ledger_lines(community, member["id"]) == [("award", 5, rule, "民情上报: 3号楼东侧")]


async def test_counts_per_unit_and_period_include_the_dispute_resolution_rate(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    unit = await community.org_unit("一社区", "community", street)
    _, phone = await member_phone(community, unit)
    disputes = [await report(phone, "dispute") for _ in range(4)]
    hazard = await report(phone, "hazard")
    for filed in disputes[:3]:
        await community.admin.post(f"/api/v1/reports/{filed['id']}/resolve", json={"resolution": "调解成功"})
    await community.admin.post(f"/api/v1/reports/{hazard['id']}/accept")
    today = datetime.now(UTC).date().isoformat()

    stats = await community.admin.get(
        "/api/v1/reports/stats", params={"org_unit_id": street, "from": "2026-01-01", "to": "2030-12-31"}
    )
    before = await community.admin.get(
        "/api/v1/reports/stats", params={"org_unit_id": street, "from": "2020-01-01", "to": "2020-12-31"}
    )
    backwards = await community.admin.get(
        "/api/v1/reports/stats", params={"org_unit_id": street, "from": today, "to": "2020-01-01"}
    )

    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert (body["collected"], body["handled"], body["in_progress"]) == (5, 3, 2)
    assert (body["disputes"], body["disputes_resolved"], body["dispute_resolution_rate"]) == (4, 3, 0.75)
    assert body["by_category"] == {"dispute": 4, "hazard": 1}
    assert before.json()["collected"] == 0
    assert backwards.status_code == 400
