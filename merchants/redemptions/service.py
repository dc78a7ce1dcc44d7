"""Redemptions (docs/api.md, "Redemptions"): pending -> fulfilled | cancelled | expired, each step one
ledger transaction. Lock order, everywhere: the redemption row, then the member's accounts and the
merchant account (in id order, in one statement, by the ledger), then the reward row."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.accounts.models import Merchant
from merchants.errors import LimitReached, MerchantSuspended, NotPending, OutOfStock, RewardUnavailable
from merchants.redemptions.codes import new_code, normalise
from merchants.redemptions.models import Redemption
from merchants.rewards.models import Reward
from points_service.auth.rate_limit import FailureLimiter
from points_service.database.driver import DriverStatement
from points_service.database.group_commit import WriteEachAlone
from points_service.database.session import on_rollback
from points_service.errors import DomainError, InsufficientPoints, NotFound
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService, MemberLocks
from points_service.org.models import Member
from points_service.org.reach import Subtree
from points_service.tenancy.periods import TenantClock, period_start

MAX_QUANTITY = 100
# The statements of every redemption batch (database/driver.py says why they skip SQLAlchemy's
# execution path). The rewards, their merchants' status and reach, and the members' unit paths are
# one round trip: one row per reward found, each carrying every member's path (a row with no reward
# when none was found). The paths are scalar subqueries, not a join: a prepared statement's generic
# plan cannot know how few members come back and would hash-join them against every org unit.
REWARD_TERMS_AND_MEMBER_PATHS = DriverStatement(
    text(
        """
    WITH member_paths AS (
        SELECT array_agg(m.id) AS ids,
               array_agg((SELECT u.path FROM org_units u WHERE u.tenant_id = m.tenant_id AND u.id = m.org_unit_id))
                   AS paths
          FROM members m
         WHERE m.tenant_id = :tenant AND m.id = ANY(:members)
    )
    SELECT r.id, r.merchant_id, r.title, r.points_price, r.stock, r.per_member_limit, r.limit_period,
           r.status, r.valid_until, r.redemption_window_hours, r.merchant_status, r.merchant_path,
           p.ids AS member_ids, p.paths AS member_paths
      FROM member_paths p
      LEFT JOIN (
            SELECT w.*, m.status AS merchant_status, u.path AS merchant_path
              FROM rewards w
              JOIN merchants m ON m.tenant_id = w.tenant_id AND m.id = w.merchant_id
              JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
             WHERE w.tenant_id = :tenant AND w.id = ANY(:rewards)
           ) r ON true
    """
    )
)
TAKE_STOCK = DriverStatement(
    text(
        "UPDATE rewards SET stock = stock - :quantity"
        " WHERE tenant_id = :tenant AND id = :reward AND stock >= :quantity RETURNING id"
    )
)
GIVE_STOCK_BACK = text(
    "UPDATE rewards SET stock = stock + :quantity WHERE tenant_id = :tenant AND id = :reward AND stock IS NOT NULL"
)


INSERTED_COLUMNS = (
    "id",
    "reward_id",
    "merchant_id",
    "member_id",
    "quantity",
    "points",
    "code",
    "status",
    "expires_at",
    "hold_transaction_id",
    "created_at",
)


# Rows as one array per column; a code already taken is left out (and drawn again by the caller).
INSERT_REDEMPTIONS = DriverStatement(
    text(
        """
    INSERT INTO redemptions
        (tenant_id, id, reward_id, merchant_id, member_id, quantity, points, code, status, expires_at,
         hold_transaction_id, created_at)
    SELECT :tenant, r.*
      FROM unnest(CAST(:id AS uuid[]), CAST(:reward_id AS uuid[]), CAST(:merchant_id AS uuid[]),
                  CAST(:member_id AS uuid[]), CAST(:quantity AS int[]), CAST(:points AS bigint[]),
                  CAST(:code AS text[]), CAST(:status AS text[]), CAST(:expires_at AS timestamptz[]),
                  CAST(:hold_transaction_id AS uuid[]), CAST(:created_at AS timestamptz[])) AS r
    ON CONFLICT (tenant_id, code) DO NOTHING
    RETURNING id
    """
    )
)


@dataclass(frozen=True)
class RewardTerms:
    """What a redemption batch needs of a reward: its terms, and its merchant's status and reach."""

    id: uuid.UUID
    merchant_id: uuid.UUID
    title: str
    points_price: int
    stock: int | None
    per_member_limit: int | None
    limit_period: str | None
    status: str
    valid_until: datetime | None
    redemption_window_hours: int
    merchant_status: str
    merchant_path: str


_REWARD_TERMS_FIELDS = tuple(field.name for field in fields(RewardTerms))


@dataclass(slots=True)
class NewRedemption:
    """A redemption a batch has just written: the row's values, not an ORM instance (building eight
    instrumented instances cost more CPU than the rest of the batch's own Python)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    reward_id: uuid.UUID
    merchant_id: uuid.UUID
    member_id: uuid.UUID
    quantity: int
    points: int
    code: str
    status: str
    expires_at: datetime
    hold_transaction_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True)
class RedeemRequest:
    member_id: uuid.UUID
    reward_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class CodeGuessLimit:
    """Unknown codes one clerk may try per window: 32^8 codes cannot be walked at 20 per 15 minutes."""

    limiter: FailureLimiter
    clerk_account_id: uuid.UUID
    misses_allowed: int = 20

    @property
    def key(self) -> str:
        return f"code-miss:clerk:{self.clerk_account_id}"

    async def check(self) -> None:
        await self.limiter.check([(self.key, self.misses_allowed)])

    async def record_miss(self) -> None:
        await self.limiter.record_failure([self.key])


@dataclass(frozen=True)
class CounterView:
    """What the clerk sees before handing over: never the member's full name."""

    redemption: Redemption
    reward_title: str
    member_name: str
    status: str
    merchant_status: str


def status_now(redemption: Redemption, now: datetime | None = None) -> str:
    """A pending code past `expires_at` is expired for every purpose, swept or not."""
    if redemption.status == "pending" and redemption.expires_at <= (now or datetime.now(UTC)):
        return "expired"
    return redemption.status


def _stock_read_suffices(requests: Sequence[RedeemRequest], rewards: dict[uuid.UUID, RewardTerms]) -> bool:
    """Whether the stock read with the rewards was enough for all these requests at once."""
    wanted: dict[uuid.UUID, int] = {}
    for request in requests:
        wanted[request.reward_id] = wanted.get(request.reward_id, 0) + request.quantity
    return all(
        rewards[reward_id].stock is None or rewards[reward_id].stock >= quantity
        for reward_id, quantity in wanted.items()
    )


class RedemptionService:
    def __init__(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        ledger: LedgerService,
        session_factory: async_sessionmaker[AsyncSession],
        clock: TenantClock,
        guesses: CodeGuessLimit | None = None,
        stock_sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._ledger = ledger
        self._session_factory = session_factory
        self._clock = clock
        self._guesses = guesses
        # Autocommit sessions of a pool of their own: a request waits for one of these while holding
        # its member's locks, so they must never be held by work that could wait for those locks.
        self._stock_sessions = stock_sessions or session_factory

    # -- member -----------------------------------------------------------------------------------

    def _in_limit_period(self, limit_period: str | None, now: datetime) -> list[Any]:
        """Redemptions that count against a per-period limit: those made since the tenant-local
        calendar month, quarter or year began (all of them when the limit is for ever)."""
        if limit_period is None:
            return []
        first_day = period_start(self._clock.today(now), limit_period)
        return [Redemption.created_at >= datetime.combine(first_day, time(), self._clock.zone)]

    async def redeem(self, member_id: uuid.UUID, reward_id: uuid.UUID, quantity: int) -> NewRedemption:
        (answer,) = await self.redeem_each([RedeemRequest(member_id, reward_id, quantity)])
        if isinstance(answer, DomainError):
            raise answer
        return answer

    async def redeem_each(self, requests: Sequence[RedeemRequest]) -> list[NewRedemption | DomainError]:
        """Redemptions of several members' requests in this one transaction (group commit), each
        checked as if it were alone and refused alone: the reward and whether its merchant serves
        the member, the member's limit and balance under the member's locks, then the stock.
        Answers in the order given."""
        answers: list[NewRedemption | DomainError | None] = [None] * len(requests)
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
        locks = await self._ledger.lock_members([requests[index].member_id for index in going])
        held = await self._held_against_limits([requests[index] for index in going], rewards, now)
        available: dict[uuid.UUID, int] = {}
        for index in going:
            request = requests[index]
            reward = rewards[request.reward_id]
            if request.member_id not in locks.accounts:
                answers[index] = NotFound(f"No such member: {request.member_id}")
                continue
            if reward.per_member_limit is not None:
                key = (request.member_id, request.reward_id)
                if held.get(key, 0) + request.quantity > reward.per_member_limit:
                    per = f" per {reward.limit_period}" if reward.limit_period else ""
                    answers[index] = LimitReached(f"At most {reward.per_member_limit} of this reward per member{per}")
                    continue
                held[key] = held.get(key, 0) + request.quantity
            points = reward.points_price * request.quantity
            left = available.setdefault(request.member_id, self._ledger.available(locks, request.member_id))
            if points > left:
                answers[index] = InsufficientPoints(f"The balance would fall below zero (member {request.member_id})")
                continue
            available[request.member_id] = left - points
        going = [index for index in going if answers[index] is None]
        passing = [requests[index] for index in going]
        if len(going) > 1 and _stock_read_suffices(passing, rewards):
            # The stock (a transaction of its own) is taken while this one writes, so the batch waits
            # for the longer of the two rather than both. Should the stock run short meanwhile, the
            # batch is written again one by one (`WriteEachAlone`), which decides who gets the last.
            taking = asyncio.create_task(self._take_stock(passing, rewards, each_in_turn=False))
            try:
                await self._hold_and_insert(requests, going, rewards, locks, now, answers)
            finally:
                short = await taking
            if short:
                raise WriteEachAlone("the stock ran short of a batch's redemptions")
        else:
            # The stock last, once everything else is known to pass (see _take_stock).
            for index, refusal in (await self._take_stock(passing, rewards, each_in_turn=True)).items():
                answers[going[index]] = refusal
            going = [index for index in going if answers[index] is None]
            if going:
                await self._hold_and_insert(requests, going, rewards, locks, now, answers)
        return [answer for answer in answers if answer is not None]

    async def _hold_and_insert(
        self,
        requests: Sequence[RedeemRequest],
        positions: list[int],
        rewards: dict[uuid.UUID, RewardTerms],
        locks: MemberLocks,
        now: datetime,
        answers: list[NewRedemption | DomainError | None],
    ) -> None:
        """Hold the points of the requests at `positions`, which passed every check, and write their
        redemptions; each redemption is the answer at its position."""
        passing = [requests[index] for index in positions]
        holds = await self._ledger.hold_each_for_redemption(
            [
                (
                    request.member_id,
                    rewards[request.reward_id].points_price * request.quantity,
                    f"兑换 {rewards[request.reward_id].title} × {request.quantity}",
                )
                for request in passing
            ],
            locks,
        )
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
        rows = await REWARD_TERMS_AND_MEMBER_PATHS.fetch(
            self._session,
            {
                "tenant": self._tenant_id,
                "rewards": sorted({request.reward_id for request in requests}),
                "members": sorted({request.member_id for request in requests}),
            },
        )
        rewards = {
            row["id"]: RewardTerms(*(row[name] for name in _REWARD_TERMS_FIELDS))
            for row in rows
            if row["id"] is not None
        }
        first = rows[0]
        paths = dict(zip(first["member_ids"] or [], first["member_paths"] or [], strict=True))
        return rewards, paths

    async def _held_against_limits(
        self, requests: Sequence[RedeemRequest], rewards: dict[uuid.UUID, RewardTerms], now: datetime
    ) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
        """(member, reward) -> the quantity already counting against the reward's per-member limit."""
        members_by_reward: dict[uuid.UUID, set[uuid.UUID]] = {}
        for request in requests:
            if rewards[request.reward_id].per_member_limit is not None:
                members_by_reward.setdefault(request.reward_id, set()).add(request.member_id)
        held: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        for reward_id, member_ids in members_by_reward.items():
            rows = await self._session.execute(
                select(Redemption.member_id, func.sum(Redemption.quantity))
                .where(
                    Redemption.tenant_id == self._tenant_id,
                    Redemption.reward_id == reward_id,
                    Redemption.member_id.in_(sorted(member_ids)),
                    # A pending code past expires_at is expired for every purpose, swept or not.
                    (Redemption.status == "fulfilled")
                    | ((Redemption.status == "pending") & (Redemption.expires_at > now)),
                    *self._in_limit_period(rewards[reward_id].limit_period, now),
                )
                .group_by(Redemption.member_id)
            )
            for member_id, quantity in rows:
                held[(member_id, reward_id)] = int(quantity or 0)
        return held

    async def _take_stock(
        self,
        requests: Sequence[RedeemRequest],
        rewards: dict[uuid.UUID, RewardTerms],
        each_in_turn: bool,
    ) -> dict[int, OutOfStock]:
        """Take the stock of the requests' rewards; the refusals, by position in `requests`.

        One conditional statement per reward for all its requests, committed on its own: the row
        lock it takes makes concurrent redemptions of the last items queue, and `stock >= quantity`
        is re-checked on the fresh row, so a reward is never oversold. Committed by itself
        (autocommit), a popular reward's row is locked for this one statement inside the database,
        not until the request's own commit, which would put every wait of the app's event loop
        inside the lock. When not enough is left for them all, each request takes its own in turn
        (`each_in_turn`), or else all of that reward's requests are refused. Should this transaction
        then not commit, the stock is given back; a process that dies in between leaves the reward
        short (never oversold)."""
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
        async with self._stock_sessions() as side, side.begin():
            taken = await TAKE_STOCK.fetch(side, {"tenant": self._tenant_id, "reward": reward_id, "quantity": quantity})
        return bool(taken)

    async def _give_back(self, taken: dict[uuid.UUID, int]) -> None:
        async with self._stock_sessions() as side, side.begin():
            for reward_id, quantity in taken.items():
                await side.execute(
                    GIVE_STOCK_BACK, {"tenant": self._tenant_id, "reward": reward_id, "quantity": quantity}
                )

    async def mine(
        self, member_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[Redemption, str]]:
        statement = (
            select(Redemption, Reward.title)
            .join(Reward, (Reward.tenant_id == Redemption.tenant_id) & (Reward.id == Redemption.reward_id))
            .where(Redemption.tenant_id == self._tenant_id, Redemption.member_id == member_id)
            .order_by(Redemption.created_at.desc(), Redemption.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(func.row(Redemption.created_at, Redemption.id) < func.row(*before))
        return [(redemption, title) for redemption, title in await self._session.execute(statement)]

    async def member_redemption(self, member_id: uuid.UUID, redemption_id: uuid.UUID) -> Redemption:
        redemption = await self._session.scalar(
            select(Redemption).where(
                Redemption.tenant_id == self._tenant_id,
                Redemption.id == redemption_id,
                Redemption.member_id == member_id,
            )
        )
        if redemption is None:
            raise NotFound(f"No such redemption: {redemption_id}")
        return redemption

    async def cancel(self, member_id: uuid.UUID, redemption_id: uuid.UUID) -> Redemption:
        seen = await self.member_redemption(member_id, redemption_id)
        if seen.status == "pending" and status_now(seen) == "expired":
            await self._expire_if_due(redemption_id)
        redemption = await self._locked(Redemption.id == redemption_id, Redemption.member_id == member_id)
        if redemption is None:
            raise NotFound(f"No such redemption: {redemption_id}")
        self._refuse_unless_pending(redemption)
        await self._release(self._session, self._ledger, redemption, "cancelled", "会员取消兑换")
        return redemption

    # -- counter ----------------------------------------------------------------------------------

    async def verify(self, merchant_id: uuid.UUID, typed_code: str) -> CounterView:
        if self._guesses is not None:
            await self._guesses.check()
        code = normalise(typed_code)
        row = None
        if code is not None:
            row = (
                await self._session.execute(
                    select(Redemption, Reward.title, Member.name, Merchant.status)
                    .join(Reward, (Reward.tenant_id == Redemption.tenant_id) & (Reward.id == Redemption.reward_id))
                    .join(Member, (Member.tenant_id == Redemption.tenant_id) & (Member.id == Redemption.member_id))
                    .join(
                        Merchant,
                        (Merchant.tenant_id == Redemption.tenant_id) & (Merchant.id == Redemption.merchant_id),
                    )
                    .where(
                        Redemption.tenant_id == self._tenant_id,
                        Redemption.code == code,
                        Redemption.merchant_id == merchant_id,
                    )
                )
            ).first()
        if row is None:
            if self._guesses is not None:
                await self._guesses.record_miss()
            raise NotFound("No such code at this merchant")
        redemption, title, name, merchant_status = row
        return CounterView(redemption, title, name, status_now(redemption), merchant_status)

    async def fulfil(self, merchant_id: uuid.UUID, typed_code: str, clerk_account_id: uuid.UUID) -> Redemption:
        view = await self.verify(merchant_id, typed_code)
        if view.merchant_status != "active":
            raise MerchantSuspended("A suspended merchant cannot hand over rewards")
        if view.redemption.status == "pending" and view.status == "expired":
            await self._expire_if_due(view.redemption.id)
        redemption = await self._locked(Redemption.id == view.redemption.id)
        assert redemption is not None
        self._refuse_unless_pending(redemption)
        settle = await self._ledger.settle_redemption(
            redemption.member_id, merchant_id, redemption.points, f"兑换核销 {view.reward_title}"
        )
        redemption.status = "fulfilled"
        redemption.settle_transaction_id = settle.transaction_id
        redemption.settled_at = datetime.now(UTC)
        redemption.settled_by = clerk_account_id
        await self._session.flush()
        return redemption

    # -- expiry -----------------------------------------------------------------------------------

    async def expire_due(self, batch: int = 200) -> int:
        """The sweep: expire pending redemptions past their time, each in a transaction of its own."""
        due = list(
            await self._session.scalars(
                select(Redemption.id)
                .where(
                    Redemption.tenant_id == self._tenant_id,
                    Redemption.status == "pending",
                    Redemption.expires_at <= func.now(),
                )
                .limit(batch)
            )
        )
        expired = 0
        for redemption_id in due:
            expired += await self._expire_if_due(redemption_id)
        return expired

    async def _expire_if_due(self, redemption_id: uuid.UUID) -> int:
        """Expire now, committed on its own, so a refusal that follows (409) does not undo it."""
        async with self._session_factory() as session, session.begin():
            redemption = await session.scalar(
                select(Redemption)
                .where(
                    Redemption.tenant_id == self._tenant_id,
                    Redemption.id == redemption_id,
                    Redemption.status == "pending",
                    Redemption.expires_at <= func.now(),
                )
                .with_for_update(skip_locked=True)
            )
            if redemption is None:
                return 0
            ledger = LedgerService(LedgerRepository(session, self._tenant_id), self._clock, None)
            await self._release(session, ledger, redemption, "expired", "兑换码过期, 积分退回")
            return 1

    async def _release(
        self, session: AsyncSession, ledger: LedgerService, redemption: Redemption, status: str, memo: str
    ) -> None:
        if redemption.status != "pending":
            raise NotPending(f"This code is {redemption.status}")
        release = await ledger.release_redemption(redemption.member_id, redemption.points, memo)
        await session.execute(
            update(Reward)
            .where(Reward.tenant_id == self._tenant_id, Reward.id == redemption.reward_id, Reward.stock.is_not(None))
            .values(stock=Reward.stock + redemption.quantity)
        )
        redemption.status = status
        redemption.settle_transaction_id = release.transaction_id
        redemption.settled_at = datetime.now(UTC)
        await session.flush()

    @staticmethod
    def _refuse_unless_pending(redemption: Redemption) -> None:
        # Past expires_at counts as expired even if the sweep could not take the row just now.
        status = status_now(redemption)
        if status != "pending":
            raise NotPending(f"This code is {status}")

    async def _locked(self, *conditions: Any) -> Redemption | None:
        return await self._session.scalar(
            select(Redemption)
            .where(Redemption.tenant_id == self._tenant_id, *conditions)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def _insert_with_unused_codes(self, redemptions: list[NewRedemption]) -> None:
        """One INSERT for them all; a code already in use (about 1 in 10^12) is skipped by the unique
        index, and its row is inserted again with a new code."""
        pending = {redemption.id: redemption for redemption in redemptions}
        while pending:
            rows = list(pending.values())
            inserted = await INSERT_REDEMPTIONS.fetch(
                self._session,
                {
                    "tenant": self._tenant_id,
                    **{column: [getattr(row, column) for row in rows] for column in INSERTED_COLUMNS},
                },
            )
            for row in inserted:
                del pending[row["id"]]
            for redemption in pending.values():
                redemption.code = new_code()
