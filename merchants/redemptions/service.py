"""Redemptions (DESIGN.md section 3): pending -> fulfilled | cancelled | expired, each step one
ledger transaction. Lock order, everywhere: the redemption row, then the member's accounts and the
merchant account (in id order, in one statement, by the ledger), then the reward row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from merchants.accounts.models import Merchant
from merchants.errors import LimitReached, MerchantSuspended, NotPending, OutOfStock, RewardUnavailable
from merchants.redemptions.codes import new_code, normalise
from merchants.redemptions.models import Redemption
from merchants.rewards.models import Reward
from points_service.auth.rate_limit import FailureLimiter
from points_service.database.session import on_rollback
from points_service.errors import NotFound
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.org.models import Member, OrgUnit
from points_service.tenancy.periods import TenantClock, period_start

MAX_QUANTITY = 100
# The member's unit and the merchant's, in one query; built once (an alias costs more than a query).
_MEMBER_UNIT = aliased(OrgUnit)
_MERCHANT_UNIT = aliased(OrgUnit)


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

    async def redeem(self, member_id: uuid.UUID, reward_id: uuid.UUID, quantity: int) -> Redemption:
        found = await self._session.execute(
            select(Reward, Merchant.status, self._serves(member_id))
            .join(Merchant, (Merchant.tenant_id == Reward.tenant_id) & (Merchant.id == Reward.merchant_id))
            .where(Reward.tenant_id == self._tenant_id, Reward.id == reward_id)
        )
        row = found.first()
        if row is None:
            raise NotFound(f"No such reward: {reward_id}")
        reward, merchant_status, serves_member = row
        now = datetime.now(UTC)
        if (
            reward.status != "active"
            or merchant_status != "active"
            or (reward.valid_until is not None and reward.valid_until <= now)
            or not serves_member
        ):
            raise RewardUnavailable("This reward cannot be redeemed now")
        points = reward.points_price * quantity
        # The member's locks first: two redemptions of one member are decided one after the other,
        # so the per-member limit and the balance are read as they really are.
        locks = await self._ledger.lock_member(member_id)
        if reward.per_member_limit is not None:
            held = await self._session.scalar(
                select(func.coalesce(func.sum(Redemption.quantity), 0)).where(
                    Redemption.tenant_id == self._tenant_id,
                    Redemption.member_id == member_id,
                    Redemption.reward_id == reward_id,
                    # A pending code past expires_at is expired for every purpose, swept or not.
                    (Redemption.status == "fulfilled")
                    | ((Redemption.status == "pending") & (Redemption.expires_at > now)),
                    *self._in_limit_period(reward.limit_period, now),
                )
            )
            if int(held or 0) + quantity > reward.per_member_limit:
                per = f" per {reward.limit_period}" if reward.limit_period else ""
                raise LimitReached(f"At most {reward.per_member_limit} of this reward per member{per}")
        hold = await self._ledger.hold_for_redemption(
            member_id, points, f"兑换 {reward.title} × {quantity}", locks=locks
        )
        expires_at = now + timedelta(hours=reward.redemption_window_hours)
        if reward.valid_until is not None:
            expires_at = min(expires_at, reward.valid_until)
        redemption = Redemption(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            reward_id=reward_id,
            merchant_id=reward.merchant_id,
            member_id=member_id,
            quantity=quantity,
            points=points,
            code=await self._unused_code(),
            status="pending",
            expires_at=expires_at,
            hold_transaction_id=hold.transaction_id,
        )
        self._session.add(redemption)
        await self._session.flush()
        if reward.stock is not None:
            await self._take_stock(reward_id, quantity)
        return redemption

    async def _take_stock(self, reward_id: uuid.UUID, quantity: int) -> None:
        """The last step of a redemption: one conditional statement committed on its own.

        The row lock it takes makes concurrent redemptions of the last items queue, and
        `stock >= quantity` is re-checked on the fresh row, so a reward is never oversold. Committed
        by itself (autocommit), a popular reward's row is locked for this one statement inside the
        database, not until the request's own commit, which would put every wait of the app's
        event loop inside the lock. Should the request's transaction then not commit, the stock is
        given back; a process that dies in between leaves the reward short (never oversold)."""
        # With the app's autocommit pool, begin() sends nothing: the statement commits by itself.
        async with self._stock_sessions() as side, side.begin():
            taken = await side.scalar(
                update(Reward)
                .where(Reward.tenant_id == self._tenant_id, Reward.id == reward_id, Reward.stock >= quantity)
                .values(stock=Reward.stock - quantity)
                .returning(Reward.id)
            )
        if taken is None:
            raise OutOfStock("Not enough left of this reward")

        async def give_back() -> None:
            async with self._stock_sessions() as side, side.begin():
                await side.execute(
                    update(Reward)
                    .where(Reward.tenant_id == self._tenant_id, Reward.id == reward_id, Reward.stock.is_not(None))
                    .values(stock=Reward.stock + quantity)
                )

        on_rollback(self._session, give_back)

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

    def _serves(self, member_id: uuid.UUID) -> Any:
        """Whether the selected reward's merchant serves the member: the member's unit lies in the
        merchant's subtree. A column expression, so it is read with the reward."""
        return (
            select(func.starts_with(_MEMBER_UNIT.path, _MERCHANT_UNIT.path))
            .select_from(Member)
            .join(
                _MEMBER_UNIT,
                (_MEMBER_UNIT.tenant_id == Member.tenant_id) & (_MEMBER_UNIT.id == Member.org_unit_id),
            )
            .join(
                _MERCHANT_UNIT,
                (_MERCHANT_UNIT.tenant_id == Member.tenant_id) & (_MERCHANT_UNIT.id == Merchant.org_unit_id),
            )
            .where(Member.tenant_id == self._tenant_id, Member.id == member_id)
            .correlate(Merchant)
            .scalar_subquery()
        )

    async def _unused_code(self) -> str:
        # Collisions are ~1 in 10^12 per code; checking keeps the unique index from ever firing.
        while True:
            code = new_code()
            taken = await self._session.scalar(
                select(Redemption.id).where(Redemption.tenant_id == self._tenant_id, Redemption.code == code)
            )
            if taken is None:
                return code
