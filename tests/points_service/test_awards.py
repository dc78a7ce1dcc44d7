"""Awards, adjustments, reversals and the member's view of them, through the HTTP API."""

from __future__ import annotations

from tests.conftest import Community


async def test_award_adds_rule_points_times_quantity_to_balance(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    rule = await community.rule(points=15)

    response = await community.award(member["id"], rule, quantity=3)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["member_id"] == member["id"]
    assert body["points"] == 45
    assert body["balance"] == 45
    balance = await community.balance(member)
    assert balance["available"] == 45
    assert balance["earned_this_month"] == 45
    assert balance["earned_total"] == 45


async def test_hour_rule_rounds_half_up(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=5, unit="hour")

    response = await community.award(member["id"], rule, quantity=1.5)

    assert response.status_code == 201, response.text
    assert response.json()["points"] == 8  # 7.5 rounds half up


async def test_penalty_rule_lowers_balance_and_earned(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    reward = await community.rule(points=30)
    penalty = await community.rule(points=-10, category="penalty")
    await community.award(member["id"], reward)

    response = await community.award(member["id"], penalty)

    assert response.status_code == 201, response.text
    assert response.json()["points"] == -10
    assert response.json()["balance"] == 20
    balance = await community.balance(member)
    assert balance["earned_this_month"] == 20
    assert (await community.ledger(member["id"]))[0]["kind"] == "penalty"


async def test_daily_cap_refuses_award_that_would_pass_it_and_writes_nothing(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10, daily_cap=25)
    assert (await community.award(member["id"], rule, quantity=2)).status_code == 201

    refused = await community.award(member["id"], rule, quantity=1)

    assert refused.status_code == 409
    assert refused.json()["code"] == "cap_reached"
    assert len(await community.ledger(member["id"])) == 1


async def test_monthly_cap_counts_every_award_of_the_month(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10, monthly_cap=30)
    for _ in range(3):
        assert (await community.award(member["id"], rule)).status_code == 201

    refused = await community.award(member["id"], rule)

    assert refused.status_code == 409
    assert refused.json()["code"] == "cap_reached"


async def test_reversed_award_gives_its_cap_back(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10, daily_cap=10)
    awarded = (await community.award(member["id"], rule)).json()
    reversed_ = await community.admin.post(
        f"/api/v1/admin/transactions/{awarded['transaction_id']}/reverse", json={"reason": "记错了人"}
    )
    assert reversed_.status_code == 201, reversed_.text

    assert (await community.award(member["id"], rule)).status_code == 201


async def test_adjustment_records_reason_in_history(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)

    response = await community.adjust(member["id"], 40, reason="补录上月值守")

    assert response.status_code == 201, response.text
    assert response.json()["points"] == 40
    client = await community.client_for(member["username"])
    lines = (await client.get("/api/v1/me/ledger")).json()["items"]
    assert lines[0]["kind"] == "adjustment"
    assert lines[0]["amount"] == 40
    assert lines[0]["memo"] == "补录上月值守"


async def test_reversal_restores_balance_and_earned_and_points_at_original(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    rule = await community.rule(points=25)
    awarded = (await community.award(member["id"], rule)).json()

    response = await community.admin.post(
        f"/api/v1/admin/transactions/{awarded['transaction_id']}/reverse", json={"reason": "重复录入"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["reverses"] == awarded["transaction_id"]
    assert body["points"] == -25
    assert body["balance"] == 0
    balance = await community.balance(member)
    assert balance["available"] == 0
    assert balance["earned_total"] == 0
    kinds = [line["kind"] for line in await community.ledger(member["id"])]
    assert kinds == ["reversal", "award"]


async def test_second_reversal_of_same_transaction_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=25)
    awarded = (await community.award(member["id"], rule)).json()
    path = f"/api/v1/admin/transactions/{awarded['transaction_id']}/reverse"
    assert (await community.admin.post(path, json={"reason": "错"})).status_code == 201

    again = await community.admin.post(path, json={"reason": "又错"})

    assert again.status_code == 409
    assert again.json()["code"] == "already_reversed"


async def test_reversal_that_would_overdraw_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=25)
    awarded = (await community.award(member["id"], rule)).json()
    assert (await community.adjust(member["id"], -20, "兑换线下礼品")).status_code == 201

    response = await community.admin.post(
        f"/api/v1/admin/transactions/{awarded['transaction_id']}/reverse", json={"reason": "错"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_points"


async def test_bulk_award_gives_each_member_one_transaction_in_order(community: Community) -> None:
    unit = await community.org_unit()
    members = [await community.member(unit, name=f"李{n}") for n in range(5)]
    rule = await community.rule(points=7)

    response = await community.admin.post(
        "/api/v1/admin/awards/bulk",
        json={"rule_code": rule, "member_ids": [m["id"] for m in members], "quantity": 2, "note": "清洁日"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["count"] == 5
    assert body["points_total"] == 70
    assert len(set(body["transaction_ids"])) == 5
    for member, transaction_id in zip(members, body["transaction_ids"], strict=True):
        lines = await community.ledger(member["id"])
        assert [(line["transaction_id"], line["amount"]) for line in lines] == [(transaction_id, 14)]


async def test_bulk_award_over_a_cap_for_one_member_writes_nothing(community: Community) -> None:
    unit = await community.org_unit()
    first, second = await community.member(unit), await community.member(unit)
    rule = await community.rule(points=10, daily_cap=10)
    assert (await community.award(second["id"], rule)).status_code == 201

    response = await community.admin.post(
        "/api/v1/admin/awards/bulk", json={"rule_code": rule, "member_ids": [first["id"], second["id"]]}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "cap_reached"
    assert await community.ledger(first["id"]) == []


async def test_member_history_pages_newest_first_without_gaps(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    rule = await community.rule(points=1)
    for quantity in range(1, 8):
        assert (await community.award(member["id"], rule, quantity=quantity)).status_code == 201
    client = await community.client_for(member["username"])

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/me/ledger", params=params)).json()
        seen += [line["amount"] for line in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [7, 6, 5, 4, 3, 2, 1]


async def test_member_sees_own_balance_with_held_zero(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    await community.award(member["id"], await community.rule(points=12))

    balance = await community.balance(member)

    assert balance == {"available": 12, "held": 0, "earned_total": 12, "earned_this_month": 12, "earned_this_year": 12}
