"""Real concurrent requests through the HTTP app: the ledger stays exact and never overdraws."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.app import reconcile_all
from tests.conftest import Community


async def assert_reconciles(sessions: async_sessionmaker[AsyncSession], community: Community) -> None:
    async with sessions() as session:
        failed = [check for check in await reconcile_all(session, tenant_id=community.tenant_id) if not check.ok]
    assert failed == []


async def test_fifty_concurrent_awards_to_one_member_sum_exactly(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    rule = await community.rule(points=3)

    responses = await asyncio.gather(*(community.award(member["id"], rule) for _ in range(50)))

    assert [r.status_code for r in responses] == [201] * 50
    assert sorted(r.json()["balance"] for r in responses) == list(range(3, 151, 3))
    assert (await community.balance(member))["available"] == 150
    await assert_reconciles(sessions, community)


async def test_concurrent_negative_adjustments_never_overdraw(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    assert (await community.adjust(member["id"], 50, "开户")).status_code == 201

    responses = await asyncio.gather(*(community.adjust(member["id"], -7, "兑换") for _ in range(20)))

    accepted = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(accepted) == 7  # 7 x 7 = 49 <= 50 < 56
    assert all(r.status_code == 409 and r.json()["code"] == "insufficient_points" for r in refused)
    assert (await community.balance(member))["available"] == 1
    await assert_reconciles(sessions, community)


async def test_same_idempotency_key_sent_ten_times_at_once_creates_one_transaction(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=10)
    key = f"award-{uuid.uuid4()}"
    body = {"member_id": member["id"], "rule_code": rule}

    responses = await asyncio.gather(
        *(community.admin.post("/api/v1/admin/awards", json=body, headers={"Idempotency-Key": key}) for _ in range(10))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["transaction_id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    assert len(await community.ledger(member["id"])) == 1


async def test_concurrent_bulk_awards_over_overlapping_members_do_not_deadlock(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    members = [(await community.member(unit, name=f"王{n}"))["id"] for n in range(12)]
    rule = await community.rule(points=1)
    # Each request names the same members in a different order: locks are still taken in id order.
    orders = [members[i:] + members[:i] for i in range(8)]

    responses = await asyncio.gather(
        *(
            community.admin.post("/api/v1/admin/awards/bulk", json={"rule_code": rule, "member_ids": order})
            for order in orders
        )
    )

    assert [r.status_code for r in responses] == [201] * 8
    for member_id in members:
        assert sum(line["amount"] for line in await community.ledger(member_id)) == 8
    await assert_reconciles(sessions, community)


async def test_concurrent_reversals_of_one_transaction_reverse_it_once(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)
    rule = await community.rule(points=9)
    awarded = (await community.award(member["id"], rule)).json()
    path = f"/api/v1/admin/transactions/{awarded['transaction_id']}/reverse"

    responses = await asyncio.gather(*(community.admin.post(path, json={"reason": "错"}) for _ in range(6)))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_reversed"}
    assert sum(line["amount"] for line in await community.ledger(member["id"])) == 0


async def _award_for_work(
    sessions: async_sessionmaker[AsyncSession], community: Community, member_id: str, rule_code: str, source: str
) -> str:
    from decimal import Decimal

    from points_service.errors import AlreadyAwarded
    from points_service.ledger.repository import LedgerRepository
    from points_service.ledger.service import LedgerService
    from points_service.rules.service import RuleService
    from points_service.tenancy.service import tenant_clock

    async with sessions() as session, session.begin():
        ledger = LedgerService(
            LedgerRepository(session, community.tenant_id), await tenant_clock(session, community.tenant_id), None
        )
        rule = await RuleService(session, community.tenant_id).by_code(rule_code)
        try:
            await ledger.award(uuid.UUID(member_id), rule, Decimal(1), "值守", source=source)
        except AlreadyAwarded:
            return "already_awarded"
    return "awarded"


async def test_the_same_piece_of_work_raced_ten_times_is_paid_once(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    rule = await community.rule(points=8)
    source = f"shift:{uuid.uuid4()}"

    outcomes = await asyncio.gather(
        *(_award_for_work(sessions, community, member["id"], rule, source) for _ in range(10))
    )

    assert sorted(outcomes) == ["already_awarded"] * 9 + ["awarded"]
    assert (await community.balance(member))["available"] == 8
    again = await _award_for_work(sessions, community, member["id"], rule, source)
    assert again == "already_awarded"
    await assert_reconciles(sessions, community)
