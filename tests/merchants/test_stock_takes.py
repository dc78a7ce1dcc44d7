"""A batch's stock, taken in a statement committed before the batch, is never lost when the batch never
commits (its process died): the take is recorded with it and ends with the batch's commit, and the
sweep gives back a record that outlived its batch, once, however many sweep at once
(merchants/redemptions/stock.py)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.redemptions.service import RedemptionService
from merchants.redemptions.stock import RewardStock, StockRanShort, give_back_abandoned
from points_service.database.session import unit_of_work
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.tenancy.periods import TenantClock
from tests.conftest import Community, ServedApp, Services, settings_for
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import Sessions, balance_of, member_with_points, my_statuses

NOW = timedelta(0)


def redemptions_in(session: AsyncSession, community: Community, sessions: Sessions) -> RedemptionService:
    ledger = LedgerService(LedgerRepository(session, community.tenant_id), TenantClock("Asia/Shanghai"), None)
    return RedemptionService(session, community.tenant_id, ledger, sessions, ledger.clock, stock_sessions=sessions)


async def stock_of(sessions: Sessions, reward_id: str) -> int:
    async with sessions() as session:
        stock = await session.scalar(text("SELECT stock FROM rewards WHERE id = :r"), {"r": uuid.UUID(reward_id)})
    return int(stock)


async def takes_of(sessions: Sessions, community: Community) -> list[tuple[uuid.UUID, int]]:
    """The tenant's take records as another connection sees them: (reward, quantity)."""
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT reward_id, quantity FROM stock_takes WHERE tenant_id = :t ORDER BY reward_id"),
            {"t": community.tenant_id},
        )
    return [(row[0], row[1]) for row in rows]


@asynccontextmanager
async def a_member_and_a_reward(community: Community, stock: int) -> AsyncIterator[tuple[Any, Any, str]]:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=stock, points_price=10)
    yield member, phone, reward_id


async def abandon_a_batch(community: Community, sessions: Sessions, member: Any, reward_id: str, quantity: int) -> None:
    """A batch that took its stock and never committed, whose process never gave the stock back: its
    transaction ends without the work a rollback runs, as when the process dies."""
    async with sessions() as session:
        await session.begin()
        await redemptions_in(session, community, sessions).redeem(
            uuid.UUID(member["id"]), uuid.UUID(reward_id), quantity
        )
        await session.rollback()


async def test_a_batch_commits_the_end_of_its_take_record_with_its_redemption(
    community: Community, sessions: Sessions
) -> None:
    async with a_member_and_a_reward(community, stock=3) as (member, phone, reward_id):
        async with unit_of_work(sessions) as session:
            await redemptions_in(session, community, sessions).redeem(uuid.UUID(member["id"]), uuid.UUID(reward_id), 2)
            # The take is committed; the end of its record is the batch's, not yet committed.
            assert await takes_of(sessions, community) == [(uuid.UUID(reward_id), 2)]
            assert await stock_of(sessions, reward_id) == 1

        assert await takes_of(sessions, community) == []
        assert await stock_of(sessions, reward_id) == 1
        assert len(await my_statuses(phone)) == 1
        # A committed batch's take is no one's to give back.
        await give_back_abandoned(sessions, after=NOW)
        assert await stock_of(sessions, reward_id) == 1


async def test_a_take_whose_batch_never_committed_is_given_back_by_the_sweep_once_past_the_grace(
    community: Community, sessions: Sessions
) -> None:
    async with a_member_and_a_reward(community, stock=3) as (member, phone, reward_id):
        await abandon_a_batch(community, sessions, member, reward_id, 2)
        assert await stock_of(sessions, reward_id) == 1
        assert await takes_of(sessions, community) == [(uuid.UUID(reward_id), 2)]

        # Within the grace period the batch might still be running: the sweep leaves it.
        await give_back_abandoned(sessions)
        assert await stock_of(sessions, reward_id) == 1

        await give_back_abandoned(sessions, after=NOW)
        assert await stock_of(sessions, reward_id) == 3
        await give_back_abandoned(sessions, after=NOW)
        assert await stock_of(sessions, reward_id) == 3
        assert await takes_of(sessions, community) == []
        assert await my_statuses(phone) == {}
        assert await balance_of(phone) == (100, 0, 100)


async def sweeps_waiting_for_a_lock(sessions: Sessions) -> int:
    async with sessions() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND query LIKE '%WITH abandoned AS%' AND pid <> pg_backend_pid()"
            )
        )
    return int(waiting or 0)


async def test_two_sweeps_at_once_give_an_abandoned_take_back_once(community: Community, sessions: Sessions) -> None:
    async with a_member_and_a_reward(community, stock=10) as (member, _, reward_id):
        for quantity in (1, 2, 3):
            await abandon_a_batch(community, sessions, member, reward_id, quantity)
        assert await stock_of(sessions, reward_id) == 4

        # Both sweeps are made to find the records at the same moment: each waits on a lock another
        # transaction holds on them, and both go on when it ends.
        async with sessions() as holder, holder.begin():
            await holder.execute(
                text("SELECT 1 FROM stock_takes WHERE tenant_id = :t FOR UPDATE"), {"t": community.tenant_id}
            )
            sweeps = [asyncio.create_task(give_back_abandoned(sessions, after=NOW)) for _ in range(2)]
            deadline = time.monotonic() + 30
            while await sweeps_waiting_for_a_lock(sessions) < 2:
                assert time.monotonic() < deadline, "the sweeps never both waited"
                await asyncio.sleep(0.05)
        await asyncio.gather(*sweeps)

        # Given back twice, the stock would be 16.
        assert await stock_of(sessions, reward_id) == 10
        assert await takes_of(sessions, community) == []


async def test_a_batch_whose_take_a_sweep_gave_back_does_not_commit(
    community: Community, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that ran past the grace period (a stuck disk, say) finds its take given back: it rolls
    back rather than redeem stock that is no longer taken."""
    keep = RewardStock.keep

    async def kept_too_late(stock: RewardStock) -> None:
        await give_back_abandoned(sessions, after=NOW)
        await keep(stock)

    monkeypatch.setattr(RewardStock, "keep", kept_too_late)
    async with a_member_and_a_reward(community, stock=3) as (member, phone, reward_id):
        with pytest.raises(StockRanShort):
            async with unit_of_work(sessions) as session:
                await redemptions_in(session, community, sessions).redeem(
                    uuid.UUID(member["id"]), uuid.UUID(reward_id), 2
                )

        assert await stock_of(sessions, reward_id) == 3
        assert await takes_of(sessions, community) == []
        assert await my_statuses(phone) == {}
        assert await balance_of(phone) == (100, 0, 100)


async def test_the_service_gives_back_stock_abandoned_past_the_grace_when_it_starts(
    community: Community, sessions: Sessions, services: Services
) -> None:
    async with a_member_and_a_reward(community, stock=3) as (member, _, reward_id):
        await abandon_a_batch(community, sessions, member, reward_id, 2)
        async with sessions() as session, session.begin():
            await session.execute(
                text("UPDATE stock_takes SET taken_at = now() - interval '6 minutes' WHERE tenant_id = :t"),
                {"t": community.tenant_id},
            )

        # Not the queue's worker: the job would wait for the minute's tick.
        with ServedApp(settings_for(services, worker="apart")):
            assert await stock_of(sessions, reward_id) == 3
        assert await takes_of(sessions, community) == []
