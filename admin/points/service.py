"""Staff changes of points: who may change whose points, then the ledger does the change."""

from __future__ import annotations

import uuid
from decimal import Decimal

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from admin.points.schemas import BulkAwarded
from points_service.accounts.service import keep_off_the_boards
from points_service.auth.principal import Principal
from points_service.errors import Forbidden
from points_service.ledger.schemas import PointsPosted, points_posted
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService
from points_service.rules.service import RuleService


class StaffPointsService:
    def __init__(
        self,
        principal: Principal,
        org: OrgService,
        rules: RuleService,
        ledger: LedgerService,
        session: AsyncSession,
        redis: Redis,
    ) -> None:
        self._principal = principal
        self._session = session
        self._redis = redis
        self._org = org
        self._rules = rules
        self._ledger = ledger

    async def bulk_award(
        self, member_ids: list[uuid.UUID], rule_code: str, quantity: Decimal, note: str | None
    ) -> BulkAwarded:
        await self._org.check_members_in_reach(member_ids)
        rule = await self._rules.by_code(rule_code)
        posted = await self._ledger.bulk_award(member_ids, rule, quantity, note)
        return BulkAwarded(len(posted), sum(p.points for p in posted), [p.transaction_id for p in posted])

    async def adjust(self, member_id: uuid.UUID, amount: int, reason: str) -> PointsPosted:
        await self._org.check_members_in_reach([member_id])
        posted = await self._ledger.adjust(member_id, amount, reason)
        await keep_off_the_boards(self._session, self._redis, self._principal.tenant_id, member_id)
        return points_posted(posted)

    async def reverse(self, transaction_id: uuid.UUID, reason: str) -> PointsPosted:
        if not self._principal.is_admin:
            raise Forbidden("Only a tenant admin reverses transactions")
        posted = await self._ledger.reverse(transaction_id, reason)
        await keep_off_the_boards(self._session, self._redis, self._principal.tenant_id, posted.member_id)
        return points_posted(posted)
