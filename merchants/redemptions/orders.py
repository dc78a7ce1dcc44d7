"""Taking orders: members' redemptions, written in batches (group commit, see group_redeem.py).

Each request is checked as if it were alone and refused alone: the reward and whether its merchant
serves the member; under the member's locks (the ledger's), the member's limit and balance; then the
stock. Lock order, as everywhere in redemptions: the member's accounts (by the ledger), then the
reward row (the stock statement)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from merchants.errors import LimitReached, RewardUnavailable
from merchants.redemptions.codes import new_code
from merchants.redemptions.repository import RedemptionRepository, RewardTerms, redeemed_label
from merchants.redemptions.schemas import NewRedemption, RedeemRequest
from merchants.redemptions.stock import RewardStock, StockRanShort, stock_read_suffices
from points_service.errors import DomainError, NotFound
from points_service.ledger.service import LedgerService, RedemptionHold
from points_service.org.reach import Subtree
from points_service.tenancy.periods import TenantClock, period_start

Answers = list[NewRedemption | DomainError | None]


class RedemptionOrders:
    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        ledger: LedgerService,
        clock: TenantClock,
        stock: RewardStock,
    ) -> None:
        self._tenant_id = tenant_id
        self._ledger = ledger
        self._clock = clock
        self._stock = stock
        self._redemptions = RedemptionRepository(session, tenant_id)

    async def redeem(self, member_id: uuid.UUID, reward_id: uuid.UUID, quantity: int) -> NewRedemption:
        (answer,) = await self.redeem_each([RedeemRequest(member_id, reward_id, quantity)])
        if isinstance(answer, DomainError):
            raise answer
        return answer

    async def redeem_each(self, requests: Sequence[RedeemRequest]) -> list[NewRedemption | DomainError]:
        """Redemptions of several members' requests in this one transaction, each refused alone.
        Answers in the order given. Raises `StockRanShort` when the batch must be decided again one
        request at a time."""
        answers: Answers = [None] * len(requests)
        now = datetime.now(UTC)
        rewards, paths = await self._terms_and_paths(requests)
        for index, request in enumerate(requests):
            reward = rewards.get(request.reward_id)
            if reward is None:
                answers[index] = NotFound(f"No such reward: {request.reward_id}")
                continue
            member_path = paths.get(request.member_id)
            if (
                reward.status != "active"
                or reward.merchant_status != "active"
                or (reward.valid_until is not None and reward.valid_until <= now)
                or member_path is None
                or not Subtree(reward.merchant_path).covers(member_path)
            ):
                answers[index] = RewardUnavailable("This reward cannot be redeemed now")
        going = [index for index, answer in enumerate(answers) if answer is None]
        # The members' locks first: two redemptions of one member are decided one after the other,
        # so the per-member limit and the balance are read as they really are.
        members = await self._ledger.lock_members([requests[index].member_id for index in going])
        counted = await self._counted_against_limits([requests[index] for index in going], rewards, now)
        _refuse_past_limits(requests, going, members, rewards, counted, answers)
        going = [index for index in going if answers[index] is None]
        for index, refusal in zip(
            going, self._ledger.refuse_unaffordable([_hold(requests[index], rewards) for index in going]), strict=True
        ):
            answers[index] = refusal
        going = [index for index in going if answers[index] is None]
        passing = [requests[index] for index in going]
        if len(going) > 1 and stock_read_suffices(passing, rewards):
            # The stock (a transaction of its own) is taken while this one writes, so the batch waits
            # for the longer of the two rather than both. Should the stock run short meanwhile, the
            # batch is decided again one by one, which settles who gets the last.
            taking = asyncio.create_task(self._stock.take(passing, rewards, each_in_turn=False))
            try:
                await self._hold_and_insert(requests, going, rewards, now, answers)
            finally:
                short = await taking
            if short:
                raise StockRanShort("the stock ran short of a batch's redemptions")
            await self._stock.keep()
        else:
            # The stock last, once everything else is known to pass.
            for index, refusal in (await self._stock.take(passing, rewards, each_in_turn=True)).items():
                answers[going[index]] = refusal
            await self._stock.keep()
            going = [index for index in going if answers[index] is None]
            if going:
                await self._hold_and_insert(requests, going, rewards, now, answers)
        return [answer for answer in answers if answer is not None]

    async def _hold_and_insert(
        self,
        requests: Sequence[RedeemRequest],
        positions: list[int],
        rewards: dict[uuid.UUID, RewardTerms],
        now: datetime,
        answers: Answers,
    ) -> None:
        """Hold the points of the requests at `positions`, which passed every check, and write their
        redemptions; each redemption is the answer at its position."""
        passing = [requests[index] for index in positions]
        holds = await self._ledger.hold_for_redemptions([_hold(request, rewards) for request in passing])
        redemptions = []
        for index, request, hold in zip(positions, passing, holds, strict=True):
            reward = rewards[request.reward_id]
            expires_at = now + timedelta(hours=reward.redemption_window_hours)
            if reward.valid_until is not None:
                expires_at = min(expires_at, reward.valid_until)
            redemption = NewRedemption(
                id=uuid.uuid4(),
                tenant_id=self._tenant_id,
                reward_id=request.reward_id,
                merchant_id=reward.merchant_id,
                member_id=request.member_id,
                quantity=request.quantity,
                points=reward.points_price * request.quantity,
                code=new_code(),
                status="pending",
                expires_at=expires_at,
                hold_transaction_id=hold.transaction_id,
                created_at=now,
            )
            redemptions.append(redemption)
            answers[index] = redemption
        await self._insert_with_unused_codes(redemptions)

    async def _terms_and_paths(
        self, requests: Sequence[RedeemRequest]
    ) -> tuple[dict[uuid.UUID, RewardTerms], dict[uuid.UUID, str]]:
        """The requested rewards that exist, and the unit path of each requesting member that exists."""
        return await self._redemptions.terms_and_paths(
            sorted({request.reward_id for request in requests}), sorted({request.member_id for request in requests})
        )

    async def _counted_against_limits(
        self, requests: Sequence[RedeemRequest], rewards: dict[uuid.UUID, RewardTerms], now: datetime
    ) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
        """(member, reward) -> the quantity already counting against the reward's per-member limit:
        redeemed since the tenant-local calendar month, quarter or year began (ever, for a limit
        for ever)."""
        members_by_reward: dict[uuid.UUID, set[uuid.UUID]] = {}
        for request in requests:
            if rewards[request.reward_id].per_member_limit is not None:
                members_by_reward.setdefault(request.reward_id, set()).add(request.member_id)
        counted: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        for reward_id, member_ids in members_by_reward.items():
            limit_period = rewards[reward_id].limit_period
            since = None
            if limit_period is not None:
                first_day = period_start(self._clock.today(now), limit_period)
                since = datetime.combine(first_day, time(), self._clock.zone)
            found = await self._redemptions.counted_quantities(reward_id, sorted(member_ids), since, now)
            for member_id, quantity in found.items():
                counted[(member_id, reward_id)] = quantity
        return counted

    async def _insert_with_unused_codes(self, redemptions: list[NewRedemption]) -> None:
        """One INSERT for them all; a code already in use (about 1 in 10^12) is skipped by the unique
        index, and its row is inserted again with a new code."""
        pending = {redemption.id: redemption for redemption in redemptions}
        while pending:
            for redemption_id in await self._redemptions.insert_new(list(pending.values())):
                del pending[redemption_id]
            for redemption in pending.values():
                redemption.code = new_code()


def _hold(request: RedeemRequest, rewards: dict[uuid.UUID, RewardTerms]) -> RedemptionHold:
    reward = rewards[request.reward_id]
    label = redeemed_label(reward.title, request.quantity, reward.merchant_name)
    return RedemptionHold(request.member_id, reward.points_price * request.quantity, f"兑换 {label}")


def _refuse_past_limits(
    requests: Sequence[RedeemRequest],
    positions: list[int],
    members: frozenset[uuid.UUID],
    rewards: dict[uuid.UUID, RewardTerms],
    counted: dict[tuple[uuid.UUID, uuid.UUID], int],
    answers: Answers,
) -> None:
    """Refuse, in the answers at `positions`, an unknown member or a request past its reward's
    per-member limit, counting the requests before it in the batch that stayed within it (whether
    or not their balance then allows them)."""
    for index in positions:
        request = requests[index]
        reward = rewards[request.reward_id]
        if request.member_id not in members:
            answers[index] = NotFound(f"No such member: {request.member_id}")
            continue
        if reward.per_member_limit is not None:
            key = (request.member_id, request.reward_id)
            if counted.get(key, 0) + request.quantity > reward.per_member_limit:
                per = f" per {reward.limit_period}" if reward.limit_period else ""
                answers[index] = LimitReached(f"At most {reward.per_member_limit} of this reward per member{per}")
                continue
            counted[key] = counted.get(key, 0) + request.quantity
