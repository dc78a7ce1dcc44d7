"""A reward's stock. Stock is not points: the ledger's invariants do not depend on it.

A redemption batch takes the stock of each reward in one conditional statement committed on its own
(autocommit, from a small pool of its own): the row lock it takes makes concurrent redemptions of the
last items queue, and `stock >= quantity` is re-checked on the fresh row, so a reward is never
oversold. Committed by itself, a popular reward's row is locked for this one statement inside the
database, not until the batch's commit, which would put every wait of the app's event loop inside
the lock.

The same statement records the take in `stock_takes` under an id of the take, and the batch's own
transaction deletes that record (`keep`): so a record exists, once committed, exactly while a take's
batch has not committed. Should the batch fail, the stock is given back at once; should its process
die in between, the record outlives the batch and the sweep gives it back once it is older than
`ABANDONED_AFTER`. Each give-back deletes the records it gives back in the same statement, so a
take is given back once, whoever (rollback, sweeps at once) tries; and a batch whose records a sweep
already gave back finds them gone and does not commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.errors import OutOfStock
from merchants.redemptions.repository import RewardTerms
from merchants.redemptions.schemas import RedeemRequest
from points_service.database.driver import DriverStatement
from points_service.database.session import on_rollback

logger = logging.getLogger(__name__)

# A process killed mid-batch leaves its reward short for this long (and up to a sweep's minute more);
# a batch's transaction never lasts near it, and one that did would find its take given back and roll back.
ABANDONED_AFTER = timedelta(minutes=5)

TAKE_STOCK = DriverStatement(
    text(
        """
        WITH taken AS (
            UPDATE rewards SET stock = stock - :quantity
             WHERE tenant_id = :tenant AND id = :reward AND stock >= :quantity
            RETURNING tenant_id, id
        )
        INSERT INTO stock_takes (tenant_id, id, reward_id, quantity)
        SELECT tenant_id, CAST(:take AS uuid), id, :quantity FROM taken
        ON CONFLICT (tenant_id, id, reward_id) DO UPDATE SET quantity = stock_takes.quantity + excluded.quantity
        RETURNING reward_id
        """
    )
)
# In the batch's transaction: its commit and the end of the take's record are one.
KEEP_TAKEN = DriverStatement(
    text("DELETE FROM stock_takes WHERE tenant_id = :tenant AND id = :take RETURNING reward_id")
)
GIVE_TAKE_BACK = text(
    """
    WITH returned AS (
        DELETE FROM stock_takes WHERE tenant_id = :tenant AND id = :take RETURNING reward_id, quantity
    )
    UPDATE rewards SET stock = rewards.stock + returned.quantity FROM returned
     WHERE rewards.tenant_id = :tenant AND rewards.id = returned.reward_id AND rewards.stock IS NOT NULL
    """
)
ABANDONED_TENANTS = text(
    "SELECT DISTINCT tenant_id FROM stock_takes WHERE taken_at < now() - make_interval(secs => :after)"
)
GIVE_ABANDONED_BACK = text(
    """
    WITH abandoned AS (
        DELETE FROM stock_takes WHERE tenant_id = :tenant AND taken_at < now() - make_interval(secs => :after)
        RETURNING reward_id, quantity
    ), owed AS (
        SELECT reward_id, sum(quantity) AS quantity FROM abandoned GROUP BY reward_id
    )
    UPDATE rewards SET stock = rewards.stock + owed.quantity FROM owed
     WHERE rewards.tenant_id = :tenant AND rewards.id = owed.reward_id AND rewards.stock IS NOT NULL
    RETURNING owed.quantity
    """
)
GIVE_STOCK_BACK = text(
    "UPDATE rewards SET stock = stock + :quantity WHERE tenant_id = :tenant AND id = :reward AND stock IS NOT NULL"
)


class StockRanShort(Exception):
    """The stock a batch read was not all there when it took it: the batch must be decided again one
    redemption at a time, which settles who gets the last items."""


def stock_read_suffices(requests: Sequence[RedeemRequest], rewards: Mapping[uuid.UUID, RewardTerms]) -> bool:
    """Whether the stock read with the rewards was enough for all these requests at once."""
    wanted: dict[uuid.UUID, int] = {}
    for request in requests:
        wanted[request.reward_id] = wanted.get(request.reward_id, 0) + request.quantity
    return all(
        rewards[reward_id].stock is None or rewards[reward_id].stock >= quantity
        for reward_id, quantity in wanted.items()
    )


class RewardStock:
    def __init__(
        self, session: AsyncSession, tenant_id: uuid.UUID, stock_sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        # Autocommit sessions of a pool of their own: a batch waits for one of these while holding
        # its members' locks, so they must never be held by work that could wait for those locks.
        self._sessions = stock_sessions
        # Takes of this transaction not yet kept: the take's id -> how many rewards it recorded.
        self._unkept: dict[uuid.UUID, int] = {}

    async def take(
        self, requests: Sequence[RedeemRequest], rewards: Mapping[uuid.UUID, RewardTerms], each_in_turn: bool
    ) -> dict[int, OutOfStock]:
        """Take the stock of the requests' rewards (those with a stock), for the session's transaction;
        the refusals, by position in `requests`. One statement per reward for all its requests; when
        not enough is left for them all, each request takes its own in turn (`each_in_turn`), or else
        all of that reward's requests are refused. Given back if the session's transaction rolls back;
        `keep` must then run in that transaction before it commits."""
        by_reward: dict[uuid.UUID, list[int]] = {}
        for position, request in enumerate(requests):
            if rewards[request.reward_id].stock is not None:
                by_reward.setdefault(request.reward_id, []).append(position)
        refused: dict[int, OutOfStock] = {}
        if not by_reward:
            return refused
        take_id = uuid.uuid4()
        # Given back by its id, whatever this call saw of its statements: one that committed though
        # its answer was lost (a cancelled task, a broken connection) is given back too.
        on_rollback(self._session, lambda: self._give_back(take_id))
        taken: set[uuid.UUID] = set()
        try:
            for reward_id, positions in by_reward.items():
                wanted = sum(requests[position].quantity for position in positions)
                if await self._take(take_id, reward_id, wanted):
                    taken.add(reward_id)
                    continue
                if not each_in_turn:
                    refused.update((position, OutOfStock("Not enough left of this reward")) for position in positions)
                    continue
                for position in positions:
                    if await self._take(take_id, reward_id, requests[position].quantity):
                        taken.add(reward_id)
                    else:
                        refused[position] = OutOfStock("Not enough left of this reward")
        finally:
            if taken:
                self._unkept[take_id] = len(taken)
        return refused

    async def keep(self) -> None:
        """Make this transaction's takes its own: their records are deleted in it, so they end when it
        commits, and come back should it roll back. A take whose record is gone was given back by the
        sweep (its batch ran past `ABANDONED_AFTER`): the batch must then not commit as it is."""
        unkept, self._unkept = self._unkept, {}
        for take_id, recorded in unkept.items():
            kept = await KEEP_TAKEN.fetch(self._session, {"tenant": self._tenant_id, "take": take_id})
            if len(kept) != recorded:
                raise StockRanShort("the stock a batch took was given back before it committed")

    async def _take(self, take_id: uuid.UUID, reward_id: uuid.UUID, quantity: int) -> bool:
        # With the app's autocommit pool, begin() sends nothing: the statement commits by itself.
        async with self._sessions() as side, side.begin():
            taken = await TAKE_STOCK.fetch(
                side, {"tenant": self._tenant_id, "reward": reward_id, "quantity": quantity, "take": take_id}
            )
        return bool(taken)

    async def _give_back(self, take_id: uuid.UUID) -> None:
        async with self._sessions() as side, side.begin():
            await side.execute(GIVE_TAKE_BACK, {"tenant": self._tenant_id, "take": take_id})


async def give_back_abandoned(sessions: async_sessionmaker[AsyncSession], after: timedelta = ABANDONED_AFTER) -> int:
    """Give back the stock of every take older than `after` whose batch never committed (its process
    died between the take and the commit); how many items. One transaction per tenant, deleting the
    records it gives back, so sweeps at once or again give each take back once."""
    params = {"after": after.total_seconds()}
    async with sessions() as session:
        tenants = list(await session.scalars(ABANDONED_TENANTS, params))
    given = 0
    for tenant_id in tenants:
        async with sessions() as session, session.begin():
            given += sum(await session.scalars(GIVE_ABANDONED_BACK, {**params, "tenant": tenant_id}))
    if given:
        logger.warning("gave back %d items of stock taken by batches that never committed", given)
    return given


async def return_stock(session: AsyncSession, tenant_id: uuid.UUID, reward_id: uuid.UUID, quantity: int) -> None:
    """Stock a redemption took goes back with its points, in that transaction (cancelled or expired)."""
    await session.execute(GIVE_STOCK_BACK, {"tenant": tenant_id, "reward": reward_id, "quantity": quantity})
