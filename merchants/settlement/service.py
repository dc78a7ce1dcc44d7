"""Monthly settlement: what each merchant fulfilled, which is exactly its ledger balance's growth."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import Merchant
from merchants.redemptions.models import Redemption
from merchants.rewards.models import Reward
from points_service.errors import InvalidInput
from points_service.tenancy.periods import TenantClock


@dataclass(frozen=True)
class StatementLine:
    redemption_id: uuid.UUID
    settled_at: datetime
    code: str
    reward_title: str
    quantity: int
    points: int


@dataclass(frozen=True)
class MerchantTotal:
    merchant_id: uuid.UUID
    merchant_name: str
    count: int
    points: int


def parse_month(text: str | None, clock: TenantClock) -> date:
    if text is None:
        return clock.today().replace(day=1)
    try:
        month = datetime.strptime(text, "%Y-%m").date()
    except ValueError as error:
        raise InvalidInput("month", "must be YYYY-MM") from error
    # A month's bounds are its first day and the next month's, in the tenant's zone and then in UTC.
    if not 1 < month.year < 9999:
        raise InvalidInput("month", "must be a month of the years 0002 to 9998")
    return month


def month_bounds(month: date, clock: TenantClock) -> tuple[datetime, datetime]:
    zone = clock.zone
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (
        datetime(month.year, month.month, 1, tzinfo=zone),
        datetime(following.year, following.month, 1, tzinfo=zone),
    )


class SettlementService:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, clock: TenantClock) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._clock = clock

    async def statement(self, merchant_id: uuid.UUID, month: date) -> list[StatementLine]:
        start, end = month_bounds(month, self._clock)
        rows = await self._session.execute(
            select(
                Redemption.id,
                Redemption.settled_at,
                Redemption.code,
                Reward.title,
                Redemption.quantity,
                Redemption.points,
            )
            .join(Reward, (Reward.tenant_id == Redemption.tenant_id) & (Reward.id == Redemption.reward_id))
            .where(
                Redemption.tenant_id == self._tenant_id,
                Redemption.merchant_id == merchant_id,
                Redemption.status == "fulfilled",
                Redemption.settled_at >= start,
                Redemption.settled_at < end,
            )
            .order_by(Redemption.settled_at, Redemption.id)
        )
        return [StatementLine(*row) for row in rows]

    async def totals(self, month: date, merchant_ids: list[uuid.UUID] | None = None) -> list[MerchantTotal]:
        start, end = month_bounds(month, self._clock)
        statement = (
            select(Merchant.id, Merchant.name, func.count(Redemption.id), func.coalesce(func.sum(Redemption.points), 0))
            .join(
                Redemption,
                (Redemption.tenant_id == Merchant.tenant_id)
                & (Redemption.merchant_id == Merchant.id)
                & (Redemption.status == "fulfilled")
                & (Redemption.settled_at >= start)
                & (Redemption.settled_at < end),
                isouter=True,
            )
            .where(Merchant.tenant_id == self._tenant_id)
            .group_by(Merchant.id, Merchant.name)
            .order_by(Merchant.name, Merchant.id)
        )
        if merchant_ids is not None:
            statement = statement.where(Merchant.id.in_(merchant_ids))
        return [
            MerchantTotal(row[0], row[1], int(row[2]), int(row[3])) for row in await self._session.execute(statement)
        ]
