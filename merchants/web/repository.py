"""What the merchant page reads and the JSON API does not offer: the shop itself (name, suspended or
not) and today's settled codes with the members' masked names. Read-only: every write goes through
RedemptionService and RewardService, the same path as the JSON API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import Merchant
from merchants.redemptions.models import Redemption
from merchants.rewards.models import Reward
from points_service.org.models import Member
from points_service.org.names import mask_name

# A day of one shop's counter; beyond this the page shows the newest ones.
MAX_LINES = 500


@dataclass(frozen=True)
class SettledLine:
    id: uuid.UUID
    settled_at: datetime
    code: str
    reward_title: str
    quantity: int
    points: int
    member_display_name: str


class CounterRecords:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id

    async def merchant(self, merchant_id: uuid.UUID) -> Merchant | None:
        return await self._session.scalar(
            select(Merchant).where(Merchant.tenant_id == self._tenant_id, Merchant.id == merchant_id)
        )

    def _fulfilled(self, merchant_id: uuid.UUID, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
        # ix_redemptions_merchant_settled (tenant_id, merchant_id, settled_at) serves the range.
        return [
            Redemption.tenant_id == self._tenant_id,
            Redemption.merchant_id == merchant_id,
            Redemption.status == "fulfilled",
            Redemption.settled_at >= start,
            Redemption.settled_at < end,
        ]

    async def fulfilled_between(
        self, merchant_id: uuid.UUID, start: datetime, end: datetime, limit: int = MAX_LINES
    ) -> list[SettledLine]:
        """Codes this shop settled in [start, end), newest first; member names masked (docs/api.md, "Masking")."""
        rows = await self._session.execute(
            select(Redemption, Reward.title, Member.name)
            .join(Reward, (Reward.tenant_id == Redemption.tenant_id) & (Reward.id == Redemption.reward_id))
            .join(Member, (Member.tenant_id == Redemption.tenant_id) & (Member.id == Redemption.member_id))
            .where(*self._fulfilled(merchant_id, start, end))
            .order_by(Redemption.settled_at.desc(), Redemption.id.desc())
            .limit(limit)
        )
        return [
            SettledLine(
                id=redemption.id,
                settled_at=redemption.settled_at,
                code=redemption.code,
                reward_title=title,
                quantity=redemption.quantity,
                points=redemption.points,
                member_display_name=mask_name(name),
            )
            for redemption, title, name in rows
        ]
