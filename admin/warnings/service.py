"""Early warnings (预警) over a subtree: who has gone quiet, who has not registered with a community,
who misses their shifts, which posts nobody holds, what has run out. Computed on demand here, and once a
day for the whole tenant by admin/warnings/daily.py, which stores the same findings."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from admin.warnings.models import DEFAULT_ATTENDANCE_BELOW, DEFAULT_DUTY_DAYS, DEFAULT_INACTIVE_DAYS, WARNING_KINDS
from points_service.duty.shifts import CHECK_OUT_GRACE, SHIFT_DUE_SQL
from points_service.org.models import OrgUnit
from points_service.org.reach import Subtree
from points_service.org.service import OrgService
from points_service.tenancy.periods import TenantClock

MAX_LISTED = 500


@dataclass(frozen=True)
class Thresholds:
    inactive_days: int = DEFAULT_INACTIVE_DAYS
    attendance_below: float = float(DEFAULT_ATTENDANCE_BELOW)
    duty_days: int = DEFAULT_DUTY_DAYS


@dataclass(frozen=True)
class Finding:
    """One row a check found, with the path of the unit it belongs to (for counts and subtree reads)."""

    path: str
    item: dict[str, Any]


@dataclass
class WarningCheck:
    kind: str
    label: str
    available: bool
    items: list[dict[str, Any]] = field(default_factory=list)
    counts_per_unit: dict[str, int] = field(default_factory=dict)


def label(kind: str, thresholds: Thresholds) -> str:
    return {
        "inactive_members": f"连续{thresholds.inactive_days}天无积分",
        "rewards_without_stock": "兑换商品无库存",
        "in_service_not_registered": "在职党员未报到",
        "low_duty_attendance": f"近{thresholds.duty_days}天值守出勤率低于{thresholds.attendance_below:.0%}",
        "posts_without_holder": "岗位无人认领",
    }[kind]


def count_per_child(paths: list[str], children: list[OrgUnit]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for path in paths:
        for child in children:
            if Subtree(child.path).covers(path):
                counts[str(child.id)] += 1
    return {str(child.id): counts.get(str(child.id), 0) for child in children}


def as_checks(
    findings: dict[str, list[Finding]], children: list[OrgUnit], thresholds: Thresholds
) -> list[WarningCheck]:
    """The checks as staff read them: at most MAX_LISTED items each, counts per child unit over all."""
    return [
        WarningCheck(
            kind,
            label(kind, thresholds),
            available=True,
            items=[found.item for found in findings.get(kind, [])[:MAX_LISTED]],
            counts_per_unit=count_per_child([found.path for found in findings.get(kind, [])], children),
        )
        for kind in WARNING_KINDS
    ]


class WarningService:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, org: OrgService, clock: TenantClock) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._org = org
        self._clock = clock

    async def run(
        self, unit_id: uuid.UUID, inactive_days: int, attendance_below: float = 0.8, duty_days: int = 30
    ) -> tuple[OrgUnit, list[WarningCheck]]:
        thresholds = Thresholds(inactive_days, attendance_below, duty_days)
        unit, children = await self._org.unit_with_children(unit_id)
        found = await findings(self._session, self._tenant_id, unit.path, thresholds, self._clock.today())
        return unit, as_checks(found, children, thresholds)


async def findings(
    session: AsyncSession, tenant_id: uuid.UUID, path: str, thresholds: Thresholds, today: date
) -> dict[str, list[Finding]]:
    """Every finding of every check under `path` ("" for the whole tenant), in each check's order."""
    checks = Checks(session, tenant_id, path)
    return {
        "inactive_members": await checks.inactive_members(thresholds.inactive_days, today),
        "rewards_without_stock": await checks.rewards_without_stock(),
        "in_service_not_registered": await checks.in_service_not_registered(),
        "low_duty_attendance": await checks.low_duty_attendance(thresholds.attendance_below, thresholds.duty_days),
        "posts_without_holder": await checks.posts_without_holder(),
    }


class Checks:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, path: str) -> None:
        self._session = session
        self._params: dict[str, Any] = {"tenant": tenant_id, "path": path}

    async def _rows(self, sql: str, **params: Any) -> list[Any]:
        return list(await self._session.execute(text(sql), {**self._params, **params}))

    async def in_service_not_registered(self) -> list[Finding]:
        rows = await self._rows("""SELECT m.id, m.name, u.path, u.name AS unit_name
                  FROM members m
                  JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                 WHERE m.tenant_id = :tenant AND starts_with(u.path, :path) AND m.party_status = 'in_service'
                   AND NOT EXISTS (SELECT 1 FROM service_registrations r
                                    WHERE r.tenant_id = m.tenant_id AND r.member_id = m.id)
                 ORDER BY u.name, m.name, m.id""")
        return [Finding(r.path, {"member_id": str(r.id), "name": r.name, "org_unit": r.unit_name}) for r in rows]

    async def low_duty_attendance(self, below: float, days: int) -> list[Finding]:
        """Holders whose shifts due in the last `days` days were attended less than `below` of the time."""
        rows = await self._rows(
            f"""SELECT m.id, m.name, u.path, u.name AS unit_name,
                       count(*) AS due, count(s.checked_in_at) AS attended
                  FROM shifts s
                  JOIN members m ON m.tenant_id = s.tenant_id AND m.id = s.member_id
                  JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                 WHERE s.tenant_id = :tenant AND starts_with(u.path, :path)
                   AND s.starts_at >= now() - make_interval(days => :days)
                   AND {SHIFT_DUE_SQL}
                 GROUP BY m.id, m.name, u.path, u.name
                HAVING count(s.checked_in_at)::float / count(*) < :below
                 ORDER BY count(s.checked_in_at)::float / count(*), m.name, m.id""",  # noqa: S608
            days=days,
            grace=CHECK_OUT_GRACE,
            below=below,
        )
        return [
            Finding(
                r.path,
                {
                    "member_id": str(r.id),
                    "name": r.name,
                    "org_unit": r.unit_name,
                    "due": r.due,
                    "attended": r.attended,
                    "rate": round(r.attended / r.due, 4),
                },
            )
            for r in rows
        ]

    async def posts_without_holder(self) -> list[Finding]:
        rows = await self._rows("""SELECT p.id, p.name, u.path, u.name AS unit_name
                  FROM posts p
                  JOIN org_units u ON u.tenant_id = p.tenant_id AND u.id = p.org_unit_id
                 WHERE p.tenant_id = :tenant AND starts_with(u.path, :path) AND p.active
                   AND NOT EXISTS (SELECT 1 FROM post_claims c
                                    WHERE c.tenant_id = p.tenant_id AND c.post_id = p.id
                                      AND c.status = 'approved')
                 ORDER BY u.name, p.name, p.id""")
        return [Finding(r.path, {"post_id": str(r.id), "name": r.name, "org_unit": r.unit_name}) for r in rows]

    async def inactive_members(self, days: int, today: date) -> list[Finding]:
        """No earned points for `days` days. Signing in is not activity; spending points is not either."""
        rows = await self._rows(
            """SELECT m.id, m.name, u.path, u.name AS unit_name,
                       (SELECT max(t.local_date) FROM ledger_transactions t
                         WHERE t.tenant_id = m.tenant_id AND t.member_id = m.id
                           AND t.earned_delta > 0) AS last_earned
                  FROM members m
                  JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                 WHERE m.tenant_id = :tenant AND starts_with(u.path, :path)
                   AND NOT EXISTS (SELECT 1 FROM ledger_transactions t
                                    WHERE t.tenant_id = m.tenant_id AND t.member_id = m.id
                                      AND t.earned_delta > 0 AND t.local_date > :since)
                 ORDER BY last_earned NULLS FIRST, m.name, m.id""",
            since=today - timedelta(days=days),
        )
        return [
            Finding(
                r.path,
                {
                    "member_id": str(r.id),
                    "name": r.name,
                    "org_unit": r.unit_name,
                    "last_earned": r.last_earned.isoformat() if r.last_earned else None,
                },
            )
            for r in rows
        ]

    async def rewards_without_stock(self) -> list[Finding]:
        rows = await self._rows("""SELECT r.id, r.title, mc.id AS merchant_id, mc.name AS merchant, u.path
                  FROM rewards r
                  JOIN merchants mc ON mc.tenant_id = r.tenant_id AND mc.id = r.merchant_id
                  JOIN org_units u ON u.tenant_id = mc.tenant_id AND u.id = mc.org_unit_id
                 WHERE r.tenant_id = :tenant AND starts_with(u.path, :path)
                   AND r.status = 'active' AND mc.status = 'active' AND r.stock = 0
                 ORDER BY mc.name, r.title, r.id""")
        return [
            Finding(
                r.path,
                {"reward_id": str(r.id), "title": r.title, "merchant": r.merchant, "merchant_id": str(r.merchant_id)},
            )
            for r in rows
        ]
