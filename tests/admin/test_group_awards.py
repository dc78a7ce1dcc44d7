"""Staff awards by group commit: concurrent requests share database transactions, and each is still
answered on its own, as if it had been alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Hashable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.database.group_commit import GroupCommit
from points_service.errors import DomainError, NotFound
from tests.conftest import Community
from tests.points_service.test_ledger_concurrency import assert_reconciles


async def transactions_written(sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID) -> tuple[int, int]:
    """(ledger transactions, database transactions that wrote them) of the tenant."""
    async with sessions() as session:
        row = (
            await session.execute(
                text("SELECT count(*), count(DISTINCT xmin::text) FROM ledger_transactions WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).one()
    return int(row[0]), int(row[1])


async def test_concurrent_awards_share_database_transactions(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    members = [(await community.member(unit, name=f"李{n}"))["id"] for n in range(40)]
    rule = await community.rule(points=5)

    responses = await asyncio.gather(*(community.award(member, rule) for member in members))

    assert [r.status_code for r in responses] == [201] * 40
    assert {r.json()["member_id"] for r in responses} == set(members)
    assert all(r.json()["points"] == 5 and r.json()["balance"] == 5 for r in responses)
    written, commits = await transactions_written(sessions, community.tenant_id)
    assert written == 40
    assert commits < 40, "40 awards sent at once were committed one by one"
    await assert_reconciles(sessions, community)


async def test_each_refusal_among_concurrent_awards_reaches_only_its_request(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    other_unit = await community.org_unit(name="东风社区")
    staff = await community.staff(unit)
    paid = [(await community.member(unit, name=f"赵{n}", login=True)) for n in range(10)]
    capped_member = await community.member(unit, name="钱多", login=True)
    outsider = await community.member(other_unit, name="孙远")
    rule = await community.rule(points=10)
    capped = await community.rule(points=10, daily_cap=30)
    penalty = await community.rule(points=-5, category="penalty")

    async def award(client: Any, member_id: str, code: str, quantity: float = 1) -> Any:
        body = {"member_id": member_id, "rule_code": code, "quantity": quantity}
        return await client.post("/api/v1/admin/awards", json=body)

    sent = {
        "paid": [award(staff, member["id"], rule) for member in paid],
        "capped": [award(community.admin, capped_member["id"], capped) for _ in range(5)],
        "unknown_member": [award(community.admin, str(uuid.uuid4()), rule)],
        "unknown_rule": [award(community.admin, paid[0]["id"], "NO_SUCH_RULE")],
        "out_of_reach": [award(staff, outsider["id"], rule)],
        "rounds_to_zero": [award(community.admin, paid[1]["id"], rule, 0.01)],
        "penalty_overdraws": [award(community.admin, outsider["id"], penalty)],
    }
    kinds = [kind for kind, calls in sent.items() for _ in calls]
    responses = await asyncio.gather(*(call for calls in sent.values() for call in calls))
    answers: dict[str, list[Any]] = {}
    for kind, response in zip(kinds, responses, strict=True):
        answers.setdefault(kind, []).append(response)

    assert [r.status_code for r in answers["paid"]] == [201] * 10
    assert sorted(r.status_code for r in answers["capped"]) == [201, 201, 201, 409, 409]
    assert {r.json()["code"] for r in answers["capped"] if r.status_code == 409} == {"cap_reached"}
    assert [(r.status_code, r.json()["code"]) for r in answers["unknown_member"]] == [(404, "not_found")]
    assert [(r.status_code, r.json()["code"]) for r in answers["unknown_rule"]] == [(404, "not_found")]
    assert [(r.status_code, r.json()["code"]) for r in answers["out_of_reach"]] == [(404, "not_found")]
    assert [r.status_code for r in answers["rounds_to_zero"]] == [400]
    assert [(r.status_code, r.json()["code"]) for r in answers["penalty_overdraws"]] == [(409, "insufficient_points")]

    for member in paid[:3]:
        assert (await community.balance(member))["available"] == 10
    assert (await community.balance(capped_member))["available"] == 30
    assert await community.ledger(outsider["id"]) == []
    written, _ = await transactions_written(sessions, community.tenant_id)
    assert written == 13
    await assert_reconciles(sessions, community)


async def test_a_refused_award_sent_again_with_its_key_replays_the_refusal(community: Community) -> None:
    rule = await community.rule(points=10)
    key = f"award-{uuid.uuid4()}"
    body = {"member_id": str(uuid.uuid4()), "rule_code": rule}

    responses = await asyncio.gather(
        *(community.admin.post("/api/v1/admin/awards", json=body, headers={"Idempotency-Key": key}) for _ in range(6))
    )

    assert {(r.status_code, r.json()["code"]) for r in responses} == {(404, "not_found")}
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 5


async def test_keyed_and_unkeyed_awards_at_once_each_pay_once(
    community: Community, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    rule = await community.rule(points=2)
    keys = [f"k-{n}" for n in range(5)]

    def keyed(key: str) -> Any:
        return community.admin.post(
            "/api/v1/admin/awards",
            json={"member_id": member["id"], "rule_code": rule},
            headers={"Idempotency-Key": key},
        )

    responses = await asyncio.gather(
        *(keyed(key) for key in keys for _ in range(3)), *(community.award(member["id"], rule) for _ in range(5))
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["transaction_id"] for r in responses}) == 10
    assert (await community.balance(member))["available"] == 20
    await assert_reconciles(sessions, community)


async def test_a_batch_the_database_refuses_is_written_again_one_by_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    attempts: list[list[str]] = []

    async def write(session: AsyncSession, _: Hashable, items: list[str]) -> list[str | DomainError]:
        attempts.append(list(items))
        # A statement the database refuses, for the one bad item: the whole transaction is lost.
        await session.execute(text("SELECT 1 / CAST(:d AS int)"), {"d": 0 if "bad" in items else 1})
        return [NotFound(item) if item == "missing" else item.upper() for item in items]

    batches: GroupCommit[str, str] = GroupCommit(sessions, write, max_in_flight=1)
    items = ["first", "a", "b", "bad", "missing", "c"]
    answers = await asyncio.gather(*(batches.submit("tenant", item) for item in items), return_exceptions=True)
    await batches.close()

    assert answers[:3] == ["FIRST", "A", "B"]
    assert isinstance(answers[3], DBAPIError)
    assert isinstance(answers[4], NotFound)
    assert answers[5] == "C"
    assert attempts[0] == ["first"], "a request that finds nothing in flight is written at once"
    assert ["a", "b", "bad", "missing", "c"] in attempts, "the rest waited and went together"
    assert sorted(batch[0] for batch in attempts[2:]) == ["a", "b", "bad", "c", "missing"]


@pytest.mark.parametrize("in_flight", [1, 3])
async def test_batches_never_exceed_their_bound_and_answer_in_order(
    sessions: async_sessionmaker[AsyncSession], in_flight: int
) -> None:
    sizes: list[int] = []

    async def write(session: AsyncSession, _: Hashable, items: list[int]) -> list[int | DomainError]:
        sizes.append(len(items))
        await session.execute(text("SELECT pg_sleep(0.01)"))
        return [item * 2 for item in items]

    batches: GroupCommit[int, int] = GroupCommit(sessions, write, max_batch=8, max_in_flight=in_flight)
    answers = await asyncio.gather(*(batches.submit("tenant", n) for n in range(50)))

    assert answers == [n * 2 for n in range(50)]
    assert max(sizes) <= 8
    assert sum(sizes) == 50
    assert len(sizes) < 50


async def test_writes_waiting_behind_a_stalled_batch_go_ahead_beside_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    finished: list[str] = []

    async def write(session: AsyncSession, _: Hashable, items: list[str]) -> list[str | DomainError]:
        # The first batch waits as on a lock held elsewhere; the others are quick.
        await session.execute(text("SELECT pg_sleep(CAST(:s AS float))"), {"s": 1.0 if "stalled" in items else 0})
        finished.extend(items)
        return items

    batches: GroupCommit[str, str] = GroupCommit(sessions, write, max_in_flight=2, stall_after=0.05)
    await quick_writes_pass_a_stalled_one(batches, finished)


async def quick_writes_pass_a_stalled_one(batches: GroupCommit[str, str], finished: list[str]) -> None:
    """Five quick writes sent while a batch of "stalled" is in flight are answered before it ends."""
    stalled = asyncio.ensure_future(batches.submit("tenant", "stalled"))
    await asyncio.sleep(0.01)
    quick = await asyncio.gather(*(batches.submit("tenant", f"quick-{n}") for n in range(5)))
    await stalled
    await batches.close()

    assert quick == [f"quick-{n}" for n in range(5)]
    assert finished[-1] == "stalled", "the quick writes waited for the stalled batch"


async def test_batches_as_slow_as_usual_are_not_doubled_but_a_stalled_one_still_is(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """On a busy machine every batch takes longer (it waits for the CPU): starting more beside them
    only makes each smaller and dearer. A batch far slower than the usual still gets one beside it."""
    in_flight = 0
    started_beside = 0
    batches_written = 0
    finished: list[str] = []

    async def write(session: AsyncSession, _: Hashable, items: list[str]) -> list[str | DomainError]:
        nonlocal in_flight, started_beside, batches_written
        started_beside += in_flight > 0
        batches_written += 1
        in_flight += 1
        try:
            seconds = 1.0 if "stalled" in items else 0.03
            await session.execute(text("SELECT pg_sleep(CAST(:s AS float))"), {"s": seconds})
        finally:
            in_flight -= 1
        finished.extend(items)
        return items

    batches: GroupCommit[str, str] = GroupCommit(sessions, write, max_in_flight=4, stall_after=0.01)

    async def steady_caller(caller: int) -> None:
        for n in range(8):
            await batches.submit("tenant", f"steady-{caller}-{n}")

    # The first batch has no history to judge by: quick ones may start beside it, at the floor of 10 ms.
    await batches.submit("tenant", "first")
    started_beside = batches_written = 0
    await asyncio.gather(*(steady_caller(caller) for caller in range(6)))
    # A loaded machine may still make one batch in a few twice as slow as the rest; at the fixed 10 ms,
    # nearly every batch had another started beside it.
    assert started_beside <= batches_written // 4, (started_beside, batches_written)

    await quick_writes_pass_a_stalled_one(batches, finished)
