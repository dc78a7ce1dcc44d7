"""Holding points for redemptions: the ledger takes the members' locks and keeps them to itself, tells
which holds the balances allow, and writes only under the locks it took in the same transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.errors import InsufficientPoints
from points_service.ledger.service import LedgerService, RedemptionHold
from points_service.tenancy.periods import TenantClock
from tests.conftest import Community

Sessions = async_sessionmaker[AsyncSession]
CLOCK = TenantClock("Asia/Shanghai")


async def member_with(community: Community, points: int) -> uuid.UUID:
    member = await community.member(await community.org_unit())
    adjusted = await community.adjust(member["id"], points, "开户")
    assert adjusted.status_code == 201, adjusted.text
    return uuid.UUID(member["id"])


async def test_holds_are_refused_in_order_once_the_balance_runs_out(community: Community, sessions: Sessions) -> None:
    member = await member_with(community, 100)
    async with sessions() as session, session.begin():
        ledger = LedgerService.in_session(session, community.tenant_id, CLOCK)
        assert await ledger.lock_members([member, uuid.uuid4()]) == {member}
        holds = [RedemptionHold(member, 60, "a"), RedemptionHold(member, 50, "b"), RedemptionHold(member, 40, "c")]
        answers = ledger.refuse_unaffordable(holds)
        assert [type(answer) for answer in answers] == [type(None), InsufficientPoints, type(None)]
        posted = await ledger.hold_for_redemptions([holds[0], holds[2]])

    assert [(hold.points, hold.balance) for hold in posted] == [(-60, 40), (-40, 0)]


async def test_a_hold_beyond_the_balance_is_refused_whole(community: Community, sessions: Sessions) -> None:
    member = await member_with(community, 30)
    async with sessions() as session, session.begin():
        ledger = LedgerService.in_session(session, community.tenant_id, CLOCK)
        await ledger.lock_members([member])
        with pytest.raises(InsufficientPoints):
            await ledger.hold_for_redemptions([RedemptionHold(member, 20, "a"), RedemptionHold(member, 20, "b")])


async def test_holds_need_the_locks_of_the_same_transaction(community: Community, sessions: Sessions) -> None:
    member = await member_with(community, 100)
    other = await member_with(community, 100)
    async with sessions() as session:
        ledger = LedgerService.in_session(session, community.tenant_id, CLOCK)
        with pytest.raises(RuntimeError):
            ledger.refuse_unaffordable([RedemptionHold(member, 10, "before any lock")])
        async with session.begin():
            await ledger.lock_members([member])
            with pytest.raises(RuntimeError):
                await ledger.hold_for_redemptions([RedemptionHold(other, 10, "a member not locked")])
        async with session.begin():
            # The locks went with the transaction that took them.
            with pytest.raises(RuntimeError):
                await ledger.hold_for_redemptions([RedemptionHold(member, 10, "a later transaction")])
