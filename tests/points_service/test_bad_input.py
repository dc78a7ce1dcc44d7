"""Bad input gets a clear problem response and writes nothing; no input gets a 500 (docs/api.md,
"Conventions")."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Community, unique

PROBLEM = "application/problem+json"
MIB = 1_048_576


# -- helpers ----------------------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """A problem response with the status and code; for a 400, an `errors` item naming `field`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    for key in ("type", "title", "detail"):
        assert key in body, body
    if status == 400:
        errors = body["errors"]
        assert errors, body
        assert all(set(error) >= {"field", "message"} for error in errors), body
        if field is not None:
            assert field in [error["field"] for error in errors], body
    return dict(body)


async def post_raw(client: httpx.AsyncClient, path: str, raw: bytes) -> httpx.Response:
    return await client.post(path, content=raw, headers={"Content-Type": "application/json"})


def rule_code() -> str:
    return unique("R").upper().replace("-", "_")


def phone() -> str:
    return f"138{uuid.uuid4().int % 10**8:08d}"


@dataclass
class Target:
    """A tenant with a member, an `each` rule worth 10 and an `hour` rule worth 1."""

    community: Community
    unit: str
    member: dict[str, Any]
    rule: str
    hour_rule: str

    @property
    def admin(self) -> httpx.AsyncClient:
        return self.community.admin

    async def ledger(self, member_id: str | None = None) -> list[dict[str, Any]]:
        return await self.community.ledger(member_id or self.member["id"])

    async def members_named(self, name: str) -> list[dict[str, Any]]:
        response = await self.admin.get("/api/v1/admin/members", params={"q": name})
        assert response.status_code == 200, response.text
        return [item for item in response.json()["items"] if item["name"] == name]

    async def rule_codes(self) -> list[str]:
        response = await self.admin.get("/api/v1/admin/rules")
        assert response.status_code == 200, response.text
        return [rule["code"] for rule in response.json()["items"]]


@pytest.fixture
async def target(community: Community) -> Target:
    unit = await community.org_unit()
    member = await community.member(unit)
    return Target(community, unit, member, await community.rule(points=10), await community.rule(points=1, unit="hour"))


# -- awards -----------------------------------------------------------------------------------------

BAD_AWARDS = {
    "member_id_not_a_uuid": ({"member_id": "not-a-uuid"}, "member_id"),
    "member_id_a_number": ({"member_id": 42}, "member_id"),
    "quantity_text": ({"quantity": "abc"}, "quantity"),
    "quantity_a_numeric_string": ({"quantity": "1"}, "quantity"),
    "quantity_a_list": ({"quantity": [1]}, "quantity"),
    "quantity_a_bool": ({"quantity": True}, "quantity"),
    "quantity_negative": ({"quantity": -1}, "quantity"),
    "quantity_zero": ({"quantity": 0}, "quantity"),
    "quantity_over_1000": ({"quantity": 1001}, "quantity"),
    "quantity_fraction_for_an_each_rule": ({"quantity": 1.5}, "quantity"),
    "rule_code_a_number": ({"rule_code": 7}, "rule_code"),
    "rule_code_empty": ({"rule_code": ""}, "rule_code"),
    "note_too_long": ({"note": "记" * 501}, "note"),
}


@pytest.mark.parametrize("case", list(BAD_AWARDS), ids=list(BAD_AWARDS))
async def test_award_with_a_bad_field_is_a_validation_error_and_writes_nothing(target: Target, case: str) -> None:
    change, field = BAD_AWARDS[case]
    body = {"member_id": target.member["id"], "rule_code": target.rule, "quantity": 1, **change}

    response = await target.admin.post("/api/v1/admin/awards", json=body)

    assert_problem(response, 400, "validation_error", field)
    assert await target.ledger() == []


@pytest.mark.parametrize("missing", ["member_id", "rule_code"])
async def test_award_missing_a_required_field_names_it(target: Target, missing: str) -> None:
    body = {"member_id": target.member["id"], "rule_code": target.rule}
    del body[missing]

    response = await target.admin.post("/api/v1/admin/awards", json=body)

    assert_problem(response, 400, "validation_error", missing)
    assert await target.ledger() == []


async def test_award_whose_points_round_to_zero_is_a_validation_error(target: Target) -> None:
    # 1 point an hour × 0.1 hours rounds to 0: a ledger entry never moves 0 points.
    response = await target.admin.post(
        "/api/v1/admin/awards", json={"member_id": target.member["id"], "rule_code": target.hour_rule, "quantity": 0.1}
    )

    assert_problem(response, 400, "validation_error", "quantity")
    assert await target.ledger() == []


async def test_award_with_fractional_hours_for_an_hour_rule_is_accepted(target: Target) -> None:
    """The counterpart of the `each` refusal: fractions are fine where the rule counts hours."""
    response = await target.admin.post(
        "/api/v1/admin/awards", json={"member_id": target.member["id"], "rule_code": target.hour_rule, "quantity": 2.5}
    )

    assert response.status_code == 201, response.text
    assert response.json()["points"] == 3  # round-half-up(1 × 2.5)


async def test_award_with_an_unknown_rule_code_is_not_found(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/awards", json={"member_id": target.member["id"], "rule_code": "NO_SUCH_RULE"}
    )

    assert_problem(response, 404, "not_found")
    assert await target.ledger() == []


async def test_award_to_an_unknown_member_is_not_found(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/awards", json={"member_id": str(uuid.uuid4()), "rule_code": target.rule}
    )

    assert_problem(response, 404, "not_found")


# -- bulk awards ------------------------------------------------------------------------------------


async def test_bulk_award_naming_one_unknown_member_is_not_found_and_awards_nobody(target: Target) -> None:
    second = await target.community.member(target.unit, "李四")
    member_ids = [target.member["id"], str(uuid.uuid4()), second["id"]]

    response = await target.admin.post(
        "/api/v1/admin/awards/bulk", json={"rule_code": target.rule, "member_ids": member_ids}
    )

    assert_problem(response, 404, "not_found")
    assert await target.ledger() == []
    assert await target.ledger(second["id"]) == []


async def test_bulk_award_with_a_repeated_member_is_a_validation_error(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/awards/bulk",
        json={"rule_code": target.rule, "member_ids": [target.member["id"], target.member["id"]]},
    )

    assert_problem(response, 400, "validation_error", "member_ids")
    assert await target.ledger() == []


async def test_bulk_award_with_1001_members_is_a_validation_error(target: Target) -> None:
    member_ids = [target.member["id"]] + [str(uuid.uuid4()) for _ in range(1000)]

    response = await target.admin.post(
        "/api/v1/admin/awards/bulk", json={"rule_code": target.rule, "member_ids": member_ids}
    )

    assert_problem(response, 400, "validation_error", "member_ids")
    assert await target.ledger() == []


async def test_bulk_award_with_no_members_is_a_validation_error(target: Target) -> None:
    response = await target.admin.post("/api/v1/admin/awards/bulk", json={"rule_code": target.rule, "member_ids": []})

    assert_problem(response, 400, "validation_error", "member_ids")


async def test_bulk_award_with_a_bad_id_names_its_position(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/awards/bulk", json={"rule_code": target.rule, "member_ids": [target.member["id"], "nope"]}
    )

    assert_problem(response, 400, "validation_error", "member_ids.1")
    assert await target.ledger() == []


# -- adjustments ------------------------------------------------------------------------------------

BAD_ADJUSTMENTS = {
    "amount_zero": ({"amount": 0}, "amount"),
    "amount_over_a_billion": ({"amount": 1_000_000_001}, "amount"),
    "amount_under_minus_a_billion": ({"amount": -1_000_000_001}, "amount"),
    "amount_fractional": ({"amount": 1.5}, "amount"),
    "reason_empty": ({"reason": ""}, "reason"),
    "reason_blank": ({"reason": "   "}, "reason"),
    "reason_null": ({"reason": None}, "reason"),
}


@pytest.mark.parametrize("case", list(BAD_ADJUSTMENTS), ids=list(BAD_ADJUSTMENTS))
async def test_adjustment_with_a_bad_field_is_a_validation_error_and_writes_nothing(target: Target, case: str) -> None:
    change, field = BAD_ADJUSTMENTS[case]
    body = {"member_id": target.member["id"], "amount": 10, "reason": "补录", **change}

    response = await target.admin.post("/api/v1/admin/adjustments", json=body)

    assert_problem(response, 400, "validation_error", field)
    assert await target.ledger() == []


async def test_adjustment_without_a_reason_is_a_validation_error(target: Target) -> None:
    body = {"member_id": target.member["id"], "amount": 5}

    response = await target.admin.post("/api/v1/admin/adjustments", json=body)

    assert_problem(response, 400, "validation_error", "reason")
    assert await target.ledger() == []


async def test_adjustment_of_exactly_a_billion_is_accepted(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/adjustments", json={"member_id": target.member["id"], "amount": 1_000_000_000, "reason": "上限"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["balance"] == 1_000_000_000


async def test_penalty_that_would_take_the_balance_below_zero_is_refused_and_writes_nothing(target: Target) -> None:
    assert (await target.community.adjust(target.member["id"], 5)).status_code == 201
    penalty = await target.community.rule(points=-10, category="penalty")

    response = await target.community.award(target.member["id"], penalty)

    assert_problem(response, 409, "insufficient_points")
    ledger = await target.ledger()
    assert [(line["kind"], line["amount"]) for line in ledger] == [("adjustment", 5)]


async def test_negative_adjustment_below_zero_is_refused_and_the_balance_stays(target: Target) -> None:
    member = await target.community.member(target.unit, "王五", login=True)
    assert (await target.community.adjust(member["id"], 5)).status_code == 201

    response = await target.community.adjust(member["id"], -6)

    assert_problem(response, 409, "insufficient_points")
    assert (await target.community.balance(member))["available"] == 5


# -- rules ------------------------------------------------------------------------------------------

BAD_RULES = {
    "points_a_trillion": ({"points": 10**12}, "points"),
    "penalty_minus_a_trillion": ({"category": "penalty", "points": -(10**12)}, "points"),
    "points_text": ({"points": "ten"}, "points"),
    "unknown_category": ({"category": "bribery"}, "category"),
    "unknown_unit": ({"unit": "minute"}, "unit"),
    "penalty_with_positive_points": ({"category": "penalty", "points": 5}, "points"),
    "award_with_negative_points": ({"category": "volunteer", "points": -5}, "points"),
    "daily_cap_zero": ({"daily_cap": 0}, "daily_cap"),
    "monthly_cap_over_a_billion": ({"monthly_cap": 1_000_000_001}, "monthly_cap"),
    "code_with_spaces": ({"code": "A B"}, "code"),
}


@pytest.mark.parametrize("case", list(BAD_RULES), ids=list(BAD_RULES))
async def test_rule_with_a_bad_field_is_a_validation_error_and_not_created(target: Target, case: str) -> None:
    change, field = BAD_RULES[case]
    body = {"code": rule_code(), "name": "志愿服务", "category": "volunteer", "points": 10, "unit": "each", **change}

    response = await target.admin.post("/api/v1/admin/rules", json=body)

    assert_problem(response, 400, "validation_error", field)
    assert body["code"] not in await target.rule_codes()


async def test_rule_with_a_taken_code_is_a_conflict_and_the_first_stays(target: Target) -> None:
    body = {"code": target.rule, "name": "另一个", "category": "duty", "points": 99, "unit": "each"}

    response = await target.admin.post("/api/v1/admin/rules", json=body)

    assert_problem(response, 409, "conflict")
    rules = (await target.admin.get("/api/v1/admin/rules")).json()["items"]
    assert [(rule["points"], rule["category"]) for rule in rules if rule["code"] == target.rule] == [(10, "volunteer")]


# -- members ----------------------------------------------------------------------------------------


async def test_member_with_a_taken_phone_is_a_conflict_and_not_created(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/members",
        json={"name": "重复号", "phone": target.member["phone"], "org_unit_id": target.unit, "party_status": "none"},
    )

    assert_problem(response, 409, "conflict")
    assert await target.members_named("重复号") == []


async def test_member_with_a_taken_username_is_a_conflict_and_not_created(target: Target) -> None:
    taken = await target.community.member(target.unit, "先来", login=True)
    body = {
        "name": "后到",
        "phone": phone(),
        "org_unit_id": target.unit,
        "party_status": "none",
        "username": taken["username"].upper(),
        "password": PASSWORD,
    }

    response = await target.admin.post("/api/v1/admin/members", json=body)

    assert_problem(response, 409, "conflict")
    assert await target.members_named("后到") == []
    # Nothing half-written either: the refused phone number is still free.
    again = await target.admin.post("/api/v1/admin/members", json={**body, "username": None, "password": None})
    assert again.status_code == 201, again.text


async def test_member_in_an_unknown_org_unit_is_not_found(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/members",
        json={"name": "无门", "phone": phone(), "org_unit_id": str(uuid.uuid4()), "party_status": "none"},
    )

    assert_problem(response, 404, "not_found")
    assert await target.members_named("无门") == []


BAD_MEMBERS = {
    "unknown_party_status": ({"party_status": "communist"}, "party_status"),
    "phone_with_letters": ({"phone": "call-me-maybe"}, "phone"),
    "name_blank": ({"name": "   "}, "name"),
    "name_too_long": ({"name": "张" * 101}, "name"),
    "org_unit_id_not_a_uuid": ({"org_unit_id": "root"}, "org_unit_id"),
    "username_without_password": ({"username": "lonely_user"}, "password"),
    "password_too_short": ({"username": "short_pw_user", "password": "1234"}, "password"),
}


@pytest.mark.parametrize("case", list(BAD_MEMBERS), ids=list(BAD_MEMBERS))
async def test_member_with_a_bad_field_is_a_validation_error_and_not_created(target: Target, case: str) -> None:
    change, field = BAD_MEMBERS[case]
    body = {"name": "坏输入", "phone": phone(), "org_unit_id": target.unit, "party_status": "none", **change}

    response = await target.admin.post("/api/v1/admin/members", json=body)

    assert_problem(response, 400, "validation_error", field)
    assert await target.members_named("坏输入") == []


async def test_text_with_a_nul_character_is_a_validation_error_naming_the_field(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/awards",
        json={"member_id": target.member["id"], "rule_code": target.rule, "note": "好人\u0000好事"},
    )

    assert_problem(response, 400, "validation_error", "note")
    assert await target.ledger() == []


async def test_member_name_with_a_nul_character_is_a_validation_error(target: Target) -> None:
    response = await target.admin.post(
        "/api/v1/admin/members",
        json={"name": "坏\u0000名", "phone": phone(), "org_unit_id": target.unit, "party_status": "none"},
    )

    assert_problem(response, 400, "validation_error", "name")


# -- bodies, lists and headers ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b'{"member_id": ', b"{member_id: 1}", b"{'a': 1}", b"\xff\xfe", b"{} {}"])
async def test_malformed_json_is_a_validation_error(target: Target, raw: bytes) -> None:
    response = await post_raw(target.admin, "/api/v1/admin/awards", raw)

    assert_problem(response, 400, "validation_error", "body")
    assert await target.ledger() == []


@pytest.mark.parametrize("raw", [b"", b"null", b"[]", b'"award"', b"42"])
async def test_a_body_that_is_not_an_object_is_a_validation_error(target: Target, raw: bytes) -> None:
    response = await post_raw(target.admin, "/api/v1/admin/awards", raw)

    assert_problem(response, 400, "validation_error", "body")


async def test_deeply_nested_json_is_a_validation_error(target: Target) -> None:
    raw = b'{"note": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = await post_raw(target.admin, "/api/v1/admin/awards", raw)

    assert_problem(response, 400, "validation_error", "body")


async def test_a_10_mb_body_is_payload_too_large(target: Target) -> None:
    raw = json.dumps({"member_id": target.member["id"], "rule_code": target.rule, "note": "x" * 10_000_000}).encode()

    response = await post_raw(target.admin, "/api/v1/admin/awards", raw)

    assert_problem(response, 413, "payload_too_large")
    assert await target.ledger() == []


async def test_a_body_one_byte_over_1_mib_is_payload_too_large(target: Target) -> None:
    prefix = json.dumps({"member_id": target.member["id"], "rule_code": target.rule, "note": ""}).encode()[:-2]
    raw = prefix + b"x" * (MIB + 1 - len(prefix) - 2) + b'"}'
    assert len(raw) == MIB + 1

    response = await post_raw(target.admin, "/api/v1/admin/awards", raw)

    assert_problem(response, 413, "payload_too_large")


async def test_a_body_of_exactly_1_mib_is_read_not_refused_for_size(target: Target) -> None:
    prefix = json.dumps({"member_id": target.member["id"], "rule_code": target.rule, "note": ""}).encode()[:-2]
    raw = prefix + b"x" * (MIB - len(prefix) - 2) + b'"}'
    assert len(raw) == MIB

    response = await post_raw(target.admin, "/api/v1/admin/awards", raw)

    # Read in full and judged on its content: the note is longer than 500 characters.
    assert_problem(response, 400, "validation_error", "note")


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5"])
async def test_list_limit_out_of_range_is_a_validation_error(target: Target, limit: str) -> None:
    response = await target.admin.get("/api/v1/admin/members", params={"limit": limit})

    assert_problem(response, 400, "validation_error", "limit")


@pytest.mark.parametrize("limit", ["0", "201"])
async def test_ledger_limit_out_of_range_is_a_validation_error(target: Target, limit: str) -> None:
    response = await target.admin.get(f"/api/v1/admin/members/{target.member['id']}/ledger", params={"limit": limit})

    assert_problem(response, 400, "validation_error", "limit")


@pytest.mark.parametrize("limit", ["1", "200"])
async def test_list_limit_at_the_bounds_is_accepted(target: Target, limit: str) -> None:
    response = await target.admin.get("/api/v1/admin/members", params={"limit": limit})

    assert response.status_code == 200, response.text
    assert set(response.json()) >= {"items", "next_cursor"}


def _cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


GARBAGE_CURSORS = {
    "not_base64": "garbage!!",
    "base64_of_text": base64.urlsafe_b64encode(b"hello").decode(),
    "wrong_shape": _cursor(1, 2, 3),
    "not_a_time": _cursor("yesterday", str(uuid.uuid4())),
    "not_a_uuid": _cursor("2024-01-01T00:00:00+00:00", "me"),
    "time_out_of_range": _cursor("0001-01-01T00:00:00+14:00", str(uuid.uuid4())),
    "time_without_offset": _cursor("2024-01-01T00:00:00", str(uuid.uuid4())),
}


@pytest.mark.parametrize("cursor", list(GARBAGE_CURSORS), ids=list(GARBAGE_CURSORS))
async def test_a_garbage_cursor_is_a_validation_error(target: Target, cursor: str) -> None:
    members = await target.admin.get("/api/v1/admin/members", params={"cursor": GARBAGE_CURSORS[cursor]})
    ledger = await target.admin.get(
        f"/api/v1/admin/members/{target.member['id']}/ledger", params={"cursor": GARBAGE_CURSORS[cursor]}
    )

    assert_problem(members, 400, "validation_error", "cursor")
    assert_problem(ledger, 400, "validation_error", "cursor")


async def test_member_search_with_a_nul_character_is_a_validation_error(target: Target) -> None:
    response = await target.admin.get("/api/v1/admin/members", params={"q": "张\u0000"})

    assert_problem(response, 400, "validation_error", "q")


BAD_KEYS: dict[str, str | bytes] = {
    "256_characters": "k" * 256,
    "non_ascii": "键-1".encode(),
    "latin1_letter": "clé".encode("latin-1"),
    "a_tab": b"key\twith-tab",
}


@pytest.mark.parametrize("key", list(BAD_KEYS), ids=list(BAD_KEYS))
async def test_a_bad_idempotency_key_is_a_validation_error_and_writes_nothing(target: Target, key: str) -> None:
    response = await target.admin.post(
        "/api/v1/admin/adjustments",
        json={"member_id": target.member["id"], "amount": 5, "reason": "补录"},
        headers={"Idempotency-Key": BAD_KEYS[key]},
    )

    assert_problem(response, 400, "validation_error", "Idempotency-Key")
    assert await target.ledger() == []


async def test_an_idempotency_key_of_255_printable_characters_is_accepted(target: Target) -> None:
    key = ("~ key-" + uuid.uuid4().hex) * 10
    response = await target.admin.post(
        "/api/v1/admin/adjustments",
        json={"member_id": target.member["id"], "amount": 5, "reason": "补录"},
        headers={"Idempotency-Key": key[:255]},
    )

    assert response.status_code == 201, response.text


# -- no 500, whatever the input ---------------------------------------------------------------------

ODD_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    2**63,
    -(10**30),
    1e308,
    0.5,
    "",
    "   ",
    "x" * 100_000,
    "\u0000",
    "😀" * 300,
    "'; DROP TABLE members; --",
    [],
    [None, {}],
    {},
    {"$gt": ""},
]
ODD_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"just a string"',
    b"12",
    b"true",
    b"{}",
    b"{",
    b"\xff\xfe\x00",
    b'{"a": {"b": [[{"c": [null, {}, [1e999]]}]]}}',
    b'{"x": 123456789012345678901234567890}',
    b"[" * 100_000 + b"]" * 100_000,
    json.dumps(["x" * 500_000]).encode(),
]


def _write_endpoints(target: Target, transaction_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each write endpoint with a body it would accept, to vary one field at a time."""
    member, unit = target.member["id"], target.unit
    return {
        "org_units": ("/api/v1/admin/org-units", {"name": "网格", "kind": "grid", "parent_id": unit}),
        "members": (
            "/api/v1/admin/members",
            {
                "name": "赵六",
                "phone": phone(),
                "org_unit_id": unit,
                "party_status": "none",
                "cadre_position": None,
                "username": None,
                "password": None,
            },
        ),
        "staff": (
            "/api/v1/admin/staff",
            {"username": unique("fz"), "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
        ),
        "rules": (
            "/api/v1/admin/rules",
            {
                "code": rule_code(),
                "name": "规则",
                "category": "duty",
                "points": 5,
                "unit": "each",
                "daily_cap": None,
                "monthly_cap": None,
                "requires_approval": False,
            },
        ),
        "awards": (
            "/api/v1/admin/awards",
            {"member_id": member, "rule_code": target.rule, "quantity": 1, "note": None},
        ),
        "bulk_awards": (
            "/api/v1/admin/awards/bulk",
            {"rule_code": target.rule, "member_ids": [member], "quantity": 1, "note": None},
        ),
        "adjustments": ("/api/v1/admin/adjustments", {"member_id": member, "amount": 5, "reason": "补录"}),
        "reverse": (f"/api/v1/admin/transactions/{transaction_id}/reverse", {"reason": "错发"}),
        "refresh": ("/api/v1/auth/refresh", {"refresh_token": "x"}),
        "logout": ("/api/v1/auth/logout", {"refresh_token": "x"}),
    }


WRITE_ENDPOINTS = [
    "org_units",
    "members",
    "staff",
    "rules",
    "awards",
    "bulk_awards",
    "adjustments",
    "reverse",
    "refresh",
    "logout",
]


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
async def test_no_odd_body_makes_a_write_endpoint_fail_with_a_server_error(target: Target, endpoint: str) -> None:
    award = await target.community.award(target.member["id"], target.rule)
    assert award.status_code == 201, award.text
    path, valid = _write_endpoints(target, award.json()["transaction_id"])[endpoint]
    requests: list[tuple[str, bytes]] = [(f"raw body {raw[:40]!r}", raw) for raw in ODD_BODIES]
    for field in valid:
        for value in ODD_VALUES:
            requests.append((f"{field}={value!r:.40}", json.dumps({**valid, field: value}).encode()))
    requests.append(("unknown fields", json.dumps({**valid, "tenant_id": str(uuid.uuid4()), "id": 1}).encode()))

    gate = asyncio.Semaphore(8)

    async def send(label: str, raw: bytes) -> str | None:
        async with gate:
            response = await post_raw(target.admin, path, raw)
        if response.status_code >= 500:
            return f"{label}: {response.status_code} {response.text[:200]}"
        if response.status_code >= 400 and not response.headers["content-type"].startswith(PROBLEM):
            return f"{label}: {response.status_code} with content-type {response.headers['content-type']}"
        return None

    failures = [failure for failure in await asyncio.gather(*(send(*request) for request in requests)) if failure]

    assert failures == []


ODD_QUERIES: list[dict[str, str]] = [
    {"limit": "abc"},
    {"limit": "1e3"},
    {"limit": "99999999999999999999999"},
    {"cursor": "\u0000"},
    {"cursor": "x" * 300},
    {"q": "x" * 51},
    {"q": "%_\\"},
    {"q": "\u0000"},
    {"org_unit_id": "root"},
    {"org_unit_id": str(uuid.uuid4())},
]


async def test_no_odd_query_makes_a_list_fail_with_a_server_error(target: Target) -> None:
    paths = ["/api/v1/admin/members", f"/api/v1/admin/members/{target.member['id']}/ledger"]
    failures = []
    for path in paths:
        for params in ODD_QUERIES:
            response = await target.admin.get(path, params=params)
            if response.status_code >= 500 or (
                response.status_code >= 400 and not response.headers["content-type"].startswith(PROBLEM)
            ):
                failures.append(f"{path} {params!r:.60}: {response.status_code} {response.text[:200]}")

    assert failures == []
