"""Refusing what is wrong instead of guessing or failing: a JSON API body sent as something else is 415,
a date at the edge of the calendar is 400 `validation_error`, a file name no file can have is 404,
never 500."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop


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


async def test_a_null_where_a_post_takes_text_is_a_validation_error_naming_the_field(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10, category="duty")

    answer = await community.admin.post(
        "/api/v1/posts",
        json={"org_unit_id": unit, "name": "文明监督岗", "rule_code": rule, "duty": None, "schedule": "每周六"},
    )

    assert answer.status_code == 400, answer.text
    assert [error["field"] for error in answer.json()["errors"]] == ["duty"]
    assert (await community.admin.get("/api/v1/posts")).json()["items"] == []


@pytest.mark.parametrize("path", ["/member/static/%00", "/merchant/static/%00", "/admin/static/web/scan%00ner.js"])
async def test_a_static_file_name_with_a_nul_is_not_found(community: Community, path: str) -> None:
    answer = await community.anonymous.get(path)

    assert answer.status_code == 404


# A moment whose UTC falls outside years 1 to 9999, and months whose bounds do.
EDGE_MOMENTS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"]


async def test_months_and_moments_at_the_ends_of_the_calendar_are_validation_errors(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit)
    answers = {}
    for month in ("9999-12", "0001-01"):
        answers[f"statement {month}"] = await clerk.get("/api/v1/merchant/statement", params={"month": month})
        answers[f"settlements {month}"] = await community.admin.get(
            "/api/v1/admin/settlements", params={"month": month}
        )
    for moment in [*EDGE_MOMENTS, "9999-12-31T23:59:59+00:00"]:
        answers[f"new reward {moment}"] = await clerk.post(
            "/api/v1/merchant/rewards", json={"title": "大米", "points_price": 5, "valid_until": moment}
        )
        answers[f"reward {moment}"] = await clerk.patch(
            f"/api/v1/merchant/rewards/{reward_id}", json={"valid_until": moment}
        )
    for moment in EDGE_MOMENTS:
        answers[f"attendance {moment}"] = await community.admin.get(
            "/api/v1/duty/attendance", params={"org_unit_id": unit, "from": moment}
        )

    assert {what: answer.status_code for what, answer in answers.items()} == dict.fromkeys(answers, 400)
    assert {answer.json()["code"] for answer in answers.values()} == {"validation_error"}
    catalogue = await clerk.get("/api/v1/merchant/rewards")
    assert [reward["valid_until"] for reward in catalogue.json()["items"]] == [None]


async def test_a_photo_form_without_a_single_part_is_a_validation_error(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    phone = await community.client_for(member["username"])
    report = await phone.post(
        "/api/v1/reports", json={"category": "facility", "place": "3号楼门口", "description": "路灯不亮"}
    )
    assert report.status_code == 201, report.text

    answer = await phone.post(
        f"/api/v1/reports/{report.json()['id']}/photos",
        content=b"--edge--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=edge"},
    )

    assert answer.status_code == 400, answer.text
    assert [error["field"] for error in answer.json()["errors"]] == ["data"]
