"""Early warnings (预警), computed on demand over a subtree: who has gone quiet, who has not registered
with a community, who misses their shifts, which posts nobody holds, what has run out."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.duty.service import CHECK_OUT_GRACE, SHIFT_DUE_SQL
from points_service.org.models import OrgUnit
from points_service.org.service import OrgService
from points_service.tenancy.periods import TenantClock

MAX_LISTED = 500


@dataclass
class WarningCheck:
    kind: str
    label: str
    available: bool
    items: list[dict[str, Any]] = field(default_factory=list)
    counts_per_unit: dict[str, int] = field(default_factory=dict)


class WarningService:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, org: OrgService, clock: TenantClock) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._org = org
        self._clock = clock

    async def run(
        self, unit_id: uuid.UUID, inactive_days: int, attendance_below: float = 0.8, duty_days: int = 30
    ) -> tuple[OrgUnit, list[WarningCheck]]:
        unit, children = await self._org.unit_with_children(unit_id)
        checks = [
            await self._inactive_members(unit, children, inactive_days),
            await self._rewards_without_stock(unit, children),
            await self._in_service_not_registered(unit, children),
            await self._low_duty_attendance(unit, children, attendance_below, duty_days),
            await self._posts_without_holder(unit, children),
        ]
        return unit, checks

    async def _in_service_not_registered(self, unit: OrgUnit, children: list[OrgUnit]) -> WarningCheck:
        rows = list(
            await self._session.execute(
                text("""SELECT m.id, m.name, u.path, u.name AS unit_name
                      FROM members m
                      JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                     WHERE m.tenant_id = :tenant AND starts_with(u.path, :path) AND m.party_status = 'in_service'
                       AND NOT EXISTS (SELECT 1 FROM service_registrations r
                                        WHERE r.tenant_id = m.tenant_id AND r.member_id = m.id)
                     ORDER BY u.name, m.name, m.id"""),
                {"tenant": self._tenant_id, "path": unit.path},
            )
        )
        check = WarningCheck("in_service_not_registered", "在职党员未报到", available=True)
        check.items = [{"member_id": r.id, "name": r.name, "org_unit": r.unit_name} for r in rows[:MAX_LISTED]]
        check.counts_per_unit = self._count_per_child([r.path for r in rows], children)
        return check

    async def _low_duty_attendance(
        self, unit: OrgUnit, children: list[OrgUnit], below: float, days: int
    ) -> WarningCheck:
        """Holders whose shifts due in the last `days` days were attended less than `below` of the time."""
        rows = list(
            await self._session.execute(
                text(f"""SELECT m.id, m.name, u.path, u.name AS unit_name,
                           count(*) AS due, count(s.checked_in_at) AS attended
                      FROM shifts s
                      JOIN members m ON m.tenant_id = s.tenant_id AND m.id = s.member_id
                      JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                     WHERE s.tenant_id = :tenant AND starts_with(u.path, :path)
                       AND s.starts_at >= now() - make_interval(days => :days)
                       AND {SHIFT_DUE_SQL}
                     GROUP BY m.id, m.name, u.path, u.name
                    HAVING count(s.checked_in_at)::float / count(*) < :below
                     ORDER BY count(s.checked_in_at)::float / count(*), m.name, m.id"""),  # noqa: S608
                {"tenant": self._tenant_id, "path": unit.path, "days": days, "grace": CHECK_OUT_GRACE, "below": below},
            )
        )
        check = WarningCheck("low_duty_attendance", f"近{days}天值守出勤率低于{below:.0%}", available=True)
        check.items = [
            {
                "member_id": r.id,
                "name": r.name,
                "org_unit": r.unit_name,
                "due": r.due,
                "attended": r.attended,
                "rate": round(r.attended / r.due, 4),
            }
            for r in rows[:MAX_LISTED]
        ]
        check.counts_per_unit = self._count_per_child([r.path for r in rows], children)
        return check

    async def _posts_without_holder(self, unit: OrgUnit, children: list[OrgUnit]) -> WarningCheck:
        rows = list(
            await self._session.execute(
                text("""SELECT p.id, p.name, u.path, u.name AS unit_name
                      FROM posts p
                      JOIN org_units u ON u.tenant_id = p.tenant_id AND u.id = p.org_unit_id
                     WHERE p.tenant_id = :tenant AND starts_with(u.path, :path) AND p.active
                       AND NOT EXISTS (SELECT 1 FROM post_claims c
                                        WHERE c.tenant_id = p.tenant_id AND c.post_id = p.id
                                          AND c.status = 'approved')
                     ORDER BY u.name, p.name, p.id"""),
                {"tenant": self._tenant_id, "path": unit.path},
            )
        )
        check = WarningCheck("posts_without_holder", "岗位无人认领", available=True)
        check.items = [{"post_id": r.id, "name": r.name, "org_unit": r.unit_name} for r in rows[:MAX_LISTED]]
        check.counts_per_unit = self._count_per_child([r.path for r in rows], children)
        return check

    def _count_per_child(self, paths: list[str], children: list[OrgUnit]) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for path in paths:
            for child in children:
                if path.startswith(child.path):
                    counts[str(child.id)] += 1
        return {str(child.id): counts.get(str(child.id), 0) for child in children}

    async def _inactive_members(self, unit: OrgUnit, children: list[OrgUnit], days: int) -> WarningCheck:
        """No earned points for `days` days. Signing in is not activity; spending points is not either."""
        since = self._clock.today() - timedelta(days=days)
        rows = list(
            await self._session.execute(
                text("""SELECT m.id, m.name, u.path, u.name AS unit_name,
                           (SELECT max(t.local_date) FROM ledger_transactions t
                             WHERE t.tenant_id = m.tenant_id AND t.member_id = m.id
                               AND t.earned_delta > 0) AS last_earned
                      FROM members m
                      JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                     WHERE m.tenant_id = :tenant AND starts_with(u.path, :path)
                       AND NOT EXISTS (SELECT 1 FROM ledger_transactions t
                                        WHERE t.tenant_id = m.tenant_id AND t.member_id = m.id
                                          AND t.earned_delta > 0 AND t.local_date > :since)
                     ORDER BY last_earned NULLS FIRST, m.name, m.id"""),
                {"tenant": self._tenant_id, "path": unit.path, "since": since},
            )
        )
        check = WarningCheck("inactive_members", f"连续{days}天无积分", available=True)
        check.items = [
            {"member_id": r.id, "name": r.name, "org_unit": r.unit_name, "last_earned": r.last_earned}
            for r in rows[:MAX_LISTED]
        ]
        check.counts_per_unit = self._count_per_child([r.path for r in rows], children)
        return check

    async def _rewards_without_stock(self, unit: OrgUnit, children: list[OrgUnit]) -> WarningCheck:
        rows = list(
            await self._session.execute(
                text("""SELECT r.id, r.title, mc.name AS merchant, u.path
                      FROM rewards r
                      JOIN merchants mc ON mc.tenant_id = r.tenant_id AND mc.id = r.merchant_id
                      JOIN org_units u ON u.tenant_id = mc.tenant_id AND u.id = mc.org_unit_id
                     WHERE r.tenant_id = :tenant AND starts_with(u.path, :path)
                       AND r.status = 'active' AND mc.status = 'active' AND r.stock = 0
                     ORDER BY mc.name, r.title"""),
                {"tenant": self._tenant_id, "path": unit.path},
            )
        )
        check = WarningCheck("rewards_without_stock", "兑换商品无库存", available=True)
        check.items = [{"reward_id": r.id, "title": r.title, "merchant": r.merchant} for r in rows[:MAX_LISTED]]
        check.counts_per_unit = self._count_per_child([r.path for r in rows], children)
        return check
