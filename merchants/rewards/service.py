"""A merchant's rewards (managed by its clerks) and the catalogue a member may redeem from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import Merchant
from merchants.errors import MerchantSuspended
from merchants.rewards.models import Reward
from points_service.database.reads import ReadPool
from points_service.errors import InvalidInput, NotFound
from points_service.org.models import Member, OrgUnit

# The member's catalogue (RewardService.catalogue's rule) as one statement on the hot-read pool
# (points_service/database/reads.py): through a session and the ORM it cost five times the CPU.
_CATALOGUE = """SELECT r.id, r.title, r.description, r.points_price, r.stock, r.per_member_limit, r.limit_period,
                       r.valid_until, r.redemption_window_hours, r.status, r.created_at,
                       m.id AS merchant_id, m.name AS merchant_name, m.address, m.honours
                  FROM rewards r
                  JOIN merchants m ON m.tenant_id = r.tenant_id AND m.id = r.merchant_id
                  JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                 WHERE r.tenant_id = $1 AND r.status = 'active' AND m.status = 'active'
                   AND (r.valid_until IS NULL OR r.valid_until > now())
                   AND starts_with((SELECT h.path FROM members mm
                                      JOIN org_units h ON h.tenant_id = mm.tenant_id AND h.id = mm.org_unit_id
                                     WHERE mm.tenant_id = $1 AND mm.id = $2), u.path)
                   {after}
                 ORDER BY r.created_at DESC, r.id DESC
                 LIMIT $3"""
# Two statements rather than one with `$4 IS NULL OR ...`, whose generic plan would fit neither.
CATALOGUE_FIRST = _CATALOGUE.format(after="")
CATALOGUE_AFTER = _CATALOGUE.format(after="AND (r.created_at, r.id) < ($4, $5)")


async def read_catalogue(
    pool: ReadPool,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[Any]:
    """Rows of active, unexpired rewards of active merchants whose subtree holds the member's unit."""
    if before is None:
        return await pool.fetch(CATALOGUE_FIRST, tenant_id, member_id, limit)
    return await pool.fetch(CATALOGUE_AFTER, tenant_id, member_id, limit, *before)


class RewardService:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id

    async def _require_open(self, merchant_id: uuid.UUID) -> None:
        """A suspended merchant's clerks may still sign in and look, but change nothing."""
        status = await self._session.scalar(
            select(Merchant.status).where(Merchant.tenant_id == self._tenant_id, Merchant.id == merchant_id)
        )
        if status == "suspended":
            raise MerchantSuspended("A suspended merchant cannot change its rewards")

    async def create(self, merchant_id: uuid.UUID, fields: dict[str, Any]) -> Reward:
        await self._require_open(merchant_id)
        self._check_valid_until(fields.get("valid_until"))
        self._check_limit_period(fields.get("per_member_limit"), fields.get("limit_period"))
        reward = Reward(id=uuid.uuid4(), tenant_id=self._tenant_id, merchant_id=merchant_id, status="active", **fields)
        self._session.add(reward)
        await self._session.flush()
        return reward

    async def of_merchant(self, merchant_id: uuid.UUID, reward_id: uuid.UUID) -> Reward:
        reward = await self._session.scalar(
            select(Reward).where(
                Reward.tenant_id == self._tenant_id, Reward.id == reward_id, Reward.merchant_id == merchant_id
            )
        )
        if reward is None:
            raise NotFound(f"No such reward: {reward_id}")
        return reward

    async def update(self, merchant_id: uuid.UUID, reward_id: uuid.UUID, fields: dict[str, Any]) -> Reward:
        await self._require_open(merchant_id)
        # FOR UPDATE: a stock edit must not interleave with a redemption taking stock.
        reward = await self._session.scalar(
            select(Reward)
            .where(Reward.tenant_id == self._tenant_id, Reward.id == reward_id, Reward.merchant_id == merchant_id)
            .with_for_update()
        )
        if reward is None:
            raise NotFound(f"No such reward: {reward_id}")
        if "valid_until" in fields:
            self._check_valid_until(fields["valid_until"])
        self._check_limit_period(
            fields.get("per_member_limit", reward.per_member_limit), fields.get("limit_period", reward.limit_period)
        )
        for name, value in fields.items():
            setattr(reward, name, value)
        await self._session.flush()
        return reward

    @staticmethod
    def _check_limit_period(per_member_limit: int | None, limit_period: str | None) -> None:
        if limit_period is not None and per_member_limit is None:
            raise InvalidInput("limit_period", "needs a per_member_limit: how many a member may redeem per period")

    async def list_for_merchant(self, merchant_id: uuid.UUID) -> list[Reward]:
        return list(
            await self._session.scalars(
                select(Reward)
                .where(Reward.tenant_id == self._tenant_id, Reward.merchant_id == merchant_id)
                .order_by(Reward.created_at.desc(), Reward.id)
            )
        )

    async def catalogue(
        self, member_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[Reward, Merchant]]:
        """Active, unexpired rewards of active merchants whose subtree holds the member's unit."""
        member_path = (
            select(OrgUnit.path)
            .join(Member, (Member.tenant_id == OrgUnit.tenant_id) & (Member.org_unit_id == OrgUnit.id))
            .where(Member.tenant_id == self._tenant_id, Member.id == member_id)
            .scalar_subquery()
        )
        merchant_path = OrgUnit.path
        statement = (
            select(Reward, Merchant)
            .join(Merchant, (Merchant.tenant_id == Reward.tenant_id) & (Merchant.id == Reward.merchant_id))
            .join(OrgUnit, (OrgUnit.tenant_id == Merchant.tenant_id) & (OrgUnit.id == Merchant.org_unit_id))
            .where(
                Reward.tenant_id == self._tenant_id,
                Reward.status == "active",
                Merchant.status == "active",
                (Reward.valid_until.is_(None)) | (Reward.valid_until > func.now()),
                literal(True) == func.starts_with(member_path, merchant_path),
            )
            .order_by(Reward.created_at.desc(), Reward.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(func.row(Reward.created_at, Reward.id) < func.row(*before))
        return [(reward, merchant) for reward, merchant in await self._session.execute(statement)]

    @staticmethod
    def _check_valid_until(valid_until: datetime | None) -> None:
        if valid_until is not None and valid_until <= datetime.now(UTC):
            raise InvalidInput("valid_until", "must be in the future")
        # Shown in every tenant's zone (up to 14 hours ahead of UTC), which must still be a date.
        if valid_until is not None and valid_until.astimezone(UTC).year >= 9999:
            raise InvalidInput("valid_until", "must be before the year 9999")
