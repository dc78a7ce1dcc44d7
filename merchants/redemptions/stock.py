"""A reward's stock. Stock is not points: the ledger's invariants do not depend on it.

A redemption batch takes the stock of each reward in one conditional statement committed on its own
(autocommit, from a small pool of its own): the row lock it takes makes concurrent redemptions of the
last items queue, and `stock >= quantity` is re-checked on the fresh row, so a reward is never
oversold. Committed by itself, a popular reward's row is locked for this one statement inside the
database, not until the batch's commit, which would put every wait of the app's event loop inside
the lock. Should the batch then not commit, the stock is given back; a process that dies in between
leaves the reward short by that quantity, never oversold."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.errors import OutOfStock
from merchants.redemptions.repository import RewardTerms
from merchants.redemptions.schemas import RedeemRequest
from points_service.database.driver import DriverStatement
from points_service.database.session import on_rollback

TAKE_STOCK = DriverStatement(
    text(
        "UPDATE rewards SET stock = stock - :quantity"
        " WHERE tenant_id = :tenant AND id = :reward AND stock >= :quantity RETURNING id"
    )
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

    async def take(
        self, requests: Sequence[RedeemRequest], rewards: Mapping[uuid.UUID, RewardTerms], each_in_turn: bool
    ) -> dict[int, OutOfStock]:
        """Take the stock of the requests' rewards (those with a stock), for the session's transaction;
        the refusals, by position in `requests`. One statement per reward for all its requests; when
        not enough is left for them all, each request takes its own in turn (`each_in_turn`), or else
        all of that reward's requests are refused. Given back if the session's transaction rolls back."""
        by_reward: dict[uuid.UUID, list[int]] = {}
        for position, request in enumerate(requests):
            if rewards[request.reward_id].stock is not None:
                by_reward.setdefault(request.reward_id, []).append(position)
        refused: dict[int, OutOfStock] = {}
        taken: dict[uuid.UUID, int] = {}
        try:
            for reward_id, positions in by_reward.items():
                wanted = sum(requests[position].quantity for position in positions)
                if await self._take(reward_id, wanted):
                    taken[reward_id] = wanted
                    continue
                if not each_in_turn:
                    refused.update((position, OutOfStock("Not enough left of this reward")) for position in positions)
                    continue
                for position in positions:
                    if await self._take(reward_id, requests[position].quantity):
                        taken[reward_id] = taken.get(reward_id, 0) + requests[position].quantity
                    else:
                        refused[position] = OutOfStock("Not enough left of this reward")
        finally:
            if taken:
                on_rollback(self._session, lambda: self._give_back(taken))
        return refused

    async def _take(self, reward_id: uuid.UUID, quantity: int) -> bool:
        # With the app's autocommit pool, begin() sends nothing: the statement commits by itself.
        async with self._sessions() as side, side.begin():
            taken = await TAKE_STOCK.fetch(side, {"tenant": self._tenant_id, "reward": reward_id, "quantity": quantity})
        return bool(taken)

    async def _give_back(self, taken: dict[uuid.UUID, int]) -> None:
        async with self._sessions() as side, side.begin():
            for reward_id, quantity in taken.items():
                await side.execute(
                    GIVE_STOCK_BACK, {"tenant": self._tenant_id, "reward": reward_id, "quantity": quantity}
                )


async def return_stock(session: AsyncSession, tenant_id: uuid.UUID, reward_id: uuid.UUID, quantity: int) -> None:
    """Stock a redemption took goes back with its points, in that transaction (cancelled or expired)."""
    await session.execute(GIVE_STOCK_BACK, {"tenant": tenant_id, "reward": reward_id, "quantity": quantity})
