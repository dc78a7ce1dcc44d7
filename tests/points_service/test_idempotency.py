"""Idempotent writes (docs/api.md, "Idempotency"): replays, refusals replayed, reuse with another body refused."""

from __future__ import annotations

import uuid

from tests.conftest import Community


async def test_retry_with_same_key_and_body_replays_first_answer(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10)
    request = {"json": {"member_id": member["id"], "rule_code": rule}, "headers": {"Idempotency-Key": "k-1"}}

    first = await community.admin.post("/api/v1/admin/awards", **request)
    retry = await community.admin.post("/api/v1/admin/awards", **request)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(await community.ledger(member["id"])) == 1


async def test_same_key_with_other_body_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    headers = {"Idempotency-Key": "k-2"}
    first = await community.admin.post(
        "/api/v1/admin/adjustments", json={"member_id": member["id"], "amount": 5, "reason": "a"}, headers=headers
    )
    assert first.status_code == 201

    other = await community.admin.post(
        "/api/v1/admin/adjustments", json={"member_id": member["id"], "amount": 6, "reason": "a"}, headers=headers
    )

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert len(await community.ledger(member["id"])) == 1


async def test_refusal_is_replayed_as_refusal_even_after_it_would_succeed(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    request = {
        "json": {"member_id": member["id"], "amount": -10, "reason": "扣分"},
        "headers": {"Idempotency-Key": "k-3"},
    }
    refused = await community.admin.post("/api/v1/admin/adjustments", **request)
    assert refused.status_code == 409
    assert (await community.adjust(member["id"], 100)).status_code == 201

    replay = await community.admin.post("/api/v1/admin/adjustments", **request)

    assert replay.status_code == 409
    assert replay.json() == refused.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert [line["amount"] for line in await community.ledger(member["id"])] == [100]


async def test_keys_are_scoped_to_the_caller(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10)
    staff = await community.staff(unit)
    request = {"json": {"member_id": member["id"], "rule_code": rule}, "headers": {"Idempotency-Key": "shared"}}

    by_admin = await community.admin.post("/api/v1/admin/awards", **request)
    by_staff = await staff.post("/api/v1/admin/awards", **request)

    assert by_admin.status_code == by_staff.status_code == 201
    assert by_admin.json()["transaction_id"] != by_staff.json()["transaction_id"]


async def test_keys_are_scoped_to_the_endpoint(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    award = await community.admin.post(
        "/api/v1/admin/awards", json={"member_id": member["id"], "rule_code": rule}, headers=key
    )
    bulk = await community.admin.post(
        "/api/v1/admin/awards/bulk", json={"member_ids": [member["id"]], "rule_code": rule}, headers=key
    )

    assert award.status_code == bulk.status_code == 201
    assert len(await community.ledger(member["id"])) == 2
