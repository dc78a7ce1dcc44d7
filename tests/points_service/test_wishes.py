"""Micro-wishes (微心愿) end to end: posted for a resident, claimed by one member at a time, fulfilled
with a note, verified by staff who pay the claimant once; the resident's name stays masked for others."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import Community
from tests.merchants.test_redemptions import assert_reconciles
from tests.points_service.test_activities import code_of, ledger_lines, member_phone


async def post_wish(client: httpx.AsyncClient, unit: str, **fields: Any) -> dict[str, Any]:
    body = {"org_unit_id": unit, "title": "帮忙修理轮椅", "resident_name": "王秀英", "resident_contact": "13800000000"}
    response = await client.post("/api/v1/wishes", json={**body, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_wish_is_claimed_fulfilled_verified_and_paid_once(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=30, category="wish")
    wish = await post_wish(community.admin, unit, rule_code=rule)
    member, phone = await member_phone(community, unit)
    _, neighbour = await member_phone(community, unit, "赵六")

    seen_before = (await phone.get(f"/api/v1/wishes/{wish['id']}")).json()
    claimed = await phone.post(f"/api/v1/wishes/{wish['id']}/claim")
    assert (seen_before["resident_name"], seen_before["resident_contact"]) == ("王**", None)
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert claimed.json()["resident_contact"] == "13800000000"  # the member who holds it finds the resident
    assert (await neighbour.get(f"/api/v1/wishes/{wish['id']}")).json()["resident_name"] == "王**"

    early = await community.admin.post(f"/api/v1/wishes/{wish['id']}/verify")
    fulfilled = await phone.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"note": "换了新轮胎"})
    verified = await community.admin.post(f"/api/v1/wishes/{wish['id']}/verify")
    again = await community.admin.post(f"/api/v1/wishes/{wish['id']}/verify")

    assert early.status_code == 409 and code_of(early) == "wrong_status"
    assert fulfilled.status_code == 200 and fulfilled.json()["status"] == "fulfilled"
    assert verified.status_code == 200, verified.text
    assert (verified.json()["status"], verified.json()["points"]) == ("verified", 30)
    assert again.status_code == 409
    assert await ledger_lines(community, member["id"]) == [("award", 30, rule, "微心愿: 帮忙修理轮椅")]
    await assert_reconciles(sessions, community)


async def test_one_member_at_a_time_and_a_released_wish_opens_again(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=30, category="wish")
    wish = await post_wish(community.admin, unit, rule_code=rule)
    phones = [(await member_phone(community, unit, f"队员{i}"))[1] for i in range(8)]

    responses = await asyncio.gather(*(phone.post(f"/api/v1/wishes/{wish['id']}/claim") for phone in phones))

    assert Counter(r.status_code for r in responses) == Counter({200: 1, 409: 7})
    assert {code_of(r) for r in responses if r.status_code == 409} == {"wish_taken"}
    winner = phones[[r.status_code for r in responses].index(200)]
    loser = phones[[r.status_code for r in responses].index(409)]
    assert (await loser.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"note": "x"})).status_code == 404
    assert (await winner.post(f"/api/v1/wishes/{wish['id']}/release")).json()["status"] == "open"
    assert (await loser.post(f"/api/v1/wishes/{wish['id']}/claim")).status_code == 200


async def test_a_member_posts_a_wish_staff_choose_the_rule_and_nobody_verifies_their_own(
    community: Community,
) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=20, category="wish")
    member, phone = await member_phone(community, unit)
    wish = await post_wish(phone, unit, title="陪老人去医院")
    await phone.post(f"/api/v1/wishes/{wish['id']}/claim")
    await phone.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"note": "已陪同"})

    by_member = await phone.post(f"/api/v1/wishes/{wish['id']}/verify")
    no_rule = await community.admin.post(f"/api/v1/wishes/{wish['id']}/verify")
    verified = await community.admin.post(f"/api/v1/wishes/{wish['id']}/verify", json={"rule_code": rule})

    assert by_member.status_code == 403
    assert no_rule.status_code == 400 and no_rule.json()["errors"][0]["field"] == "rule_code"
    assert verified.status_code == 200 and verified.json()["points"] == 20
    assert await ledger_lines(community, member["id"]) == [("award", 20, rule, "微心愿: 陪老人去医院")]


async def test_staff_send_a_wish_back_and_outsiders_cannot_touch_it(community: Community) -> None:
    street = await community.org_unit("街道", "street")
    unit = await community.org_unit("一社区", "community", street)
    sibling = await community.org_unit("二社区", "community", street)
    rule = await community.rule(points=20, category="wish")
    wish = await post_wish(community.admin, unit, rule_code=rule)
    _, phone = await member_phone(community, unit)
    _, far_away = await member_phone(community, sibling, "钱七")
    outsider = await community.staff(sibling)
    await phone.post(f"/api/v1/wishes/{wish['id']}/claim")
    await phone.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"note": "买了米"})

    assert (await far_away.get(f"/api/v1/wishes/{wish['id']}")).status_code == 404
    assert (await far_away.post(f"/api/v1/wishes/{wish['id']}/claim")).status_code == 404
    assert (await outsider.post(f"/api/v1/wishes/{wish['id']}/verify")).status_code == 404
    sent_back = await community.admin.post(f"/api/v1/wishes/{wish['id']}/send-back", json={"reason": "老人说米没收到"})
    assert sent_back.status_code == 200 and sent_back.json()["status"] == "claimed"
    assert "老人说米没收到" in sent_back.json()["fulfilment_note"]
    assert [w["id"] for w in (await far_away.get("/api/v1/wishes")).json()["items"]] == []
