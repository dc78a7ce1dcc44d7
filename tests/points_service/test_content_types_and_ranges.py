"""Refusing what is wrong instead of guessing or failing: a JSON API body sent as something else is 415,
and a date at the edge of the calendar is 400 `validation_error`, never 500."""

from __future__ import annotations

import json

from tests.conftest import Community


async def test_a_json_body_sent_as_another_type_is_refused_with_415(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10)
    body = {"member_id": member["id"], "rule_code": rule, "quantity": 1}

    as_text = await community.admin.post(
        "/api/v1/admin/awards", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    as_form = await community.admin.post("/api/v1/admin/awards", data={key: str(value) for key, value in body.items()})
    as_json = await community.admin.post("/api/v1/admin/awards", json=body)

    assert (as_text.status_code, as_text.json()["code"]) == (415, "unsupported_media_type")
    assert (as_form.status_code, as_form.json()["code"]) == (415, "unsupported_media_type")
    assert as_json.status_code == 201, as_json.text
    assert len(await community.ledger(member["id"])) == 1


async def test_a_call_without_a_body_is_not_asked_for_a_content_type(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    phone = await community.client_for(member["username"])

    answer = await phone.get("/api/v1/me/balance")

    assert answer.status_code == 200


async def test_a_date_at_the_end_of_the_calendar_is_a_validation_error(community: Community) -> None:
    unit = await community.org_unit()

    answer = await community.admin.get(
        "/api/v1/reports/stats", params={"org_unit_id": unit, "from": "9999-12-30", "to": "9999-12-31"}
    )

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "validation_error"


async def test_a_number_sent_as_a_string_is_a_validation_error_naming_the_field(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10)

    answer = await community.admin.post(
        "/api/v1/admin/adjustments", json={"member_id": member["id"], "amount": "5", "reason": "纠正"}
    )

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "validation_error"
    assert [error["field"] for error in answer.json()["errors"]] == ["amount"]
    assert await community.ledger(member["id"]) == []
    assert (await community.award(member["id"], rule)).status_code == 201
