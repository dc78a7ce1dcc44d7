"""The statistics block of the console's org page: what a unit's subtree holds, each figure counted
from the records (units, members, 双报到 registrations, activity attendance, reports, wishes) when the
page is shown, never stored or typed in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.models import Activity, ActivitySignup
from points_service.org.models import Member, OrgUnit, ServiceRegistration
from points_service.org.reach import Subtree
from points_service.reports.models import ProblemReport
from points_service.tenancy.periods import TenantClock
from points_service.wishes.models import Wish

CLAIMED = ("claimed", "fulfilled", "verified")


@dataclass(frozen=True)
class UnitStatistics:
    communities: int
    areas: int
    buildings: int  # building groups (楼党小组)
    members: int
    registered: int  # in-service members registered with a community of the subtree (双报到)
    took_part: int  # of them, those who attended an activity that started this year
    reports: int
    handled: int  # resolved
    wishes: int
    claimed: int  # claimed, fulfilled or verified


async def unit_statistics(
    session: AsyncSession, tenant_id: uuid.UUID, subtree: Subtree, clock: TenantClock
) -> UnitStatistics:
    """Each figure one query over the subtree's records; "this year" is the tenant's calendar year."""

    def in_subtree(unit_column: object) -> object:
        unit = select(OrgUnit.id).where(OrgUnit.tenant_id == tenant_id, subtree.clause(OrgUnit.path))
        return unit_column.in_(unit.scalar_subquery())  # type: ignore[attr-defined]

    kinds = dict(
        (
            await session.execute(
                subtree.filter(
                    select(OrgUnit.kind, func.count())
                    .where(OrgUnit.tenant_id == tenant_id, OrgUnit.kind.in_(("community", "area", "group")))
                    .group_by(OrgUnit.kind),
                    OrgUnit.path,
                )
            )
        ).all()
    )
    members = await session.scalar(
        select(func.count()).select_from(Member).where(Member.tenant_id == tenant_id, in_subtree(Member.org_unit_id))
    )
    registered_members = (
        select(ServiceRegistration.member_id)
        .join(
            Member,
            and_(Member.tenant_id == ServiceRegistration.tenant_id, Member.id == ServiceRegistration.member_id),
        )
        .where(
            ServiceRegistration.tenant_id == tenant_id,
            Member.party_status == "in_service",
            in_subtree(ServiceRegistration.community_id),
        )
    )
    registered = await session.scalar(select(func.count()).select_from(registered_members.subquery()))
    this_year = clock.today().replace(month=1, day=1)
    year_start = datetime.combine(this_year, time(), clock.zone)
    year_end = datetime.combine(date(this_year.year + 1, 1, 1), time(), clock.zone)
    took_part = await session.scalar(
        select(func.count(func.distinct(ActivitySignup.member_id)))
        .join(Activity, and_(Activity.tenant_id == ActivitySignup.tenant_id, Activity.id == ActivitySignup.activity_id))
        .where(
            ActivitySignup.tenant_id == tenant_id,
            ActivitySignup.attended.is_(True),
            Activity.starts_at >= year_start,
            Activity.starts_at < year_end,
            ActivitySignup.member_id.in_(registered_members.scalar_subquery()),
        )
    )
    reports = (
        await session.execute(
            select(func.count(), func.count().filter(ProblemReport.status == "resolved")).where(
                ProblemReport.tenant_id == tenant_id, in_subtree(ProblemReport.reported_unit_id)
            )
        )
    ).one()
    wishes = (
        await session.execute(
            select(func.count(), func.count().filter(Wish.status.in_(CLAIMED))).where(
                Wish.tenant_id == tenant_id, Wish.status != "cancelled", in_subtree(Wish.org_unit_id)
            )
        )
    ).one()
    return UnitStatistics(
        communities=kinds.get("community", 0),
        areas=kinds.get("area", 0),
        buildings=kinds.get("group", 0),
        members=members or 0,
        registered=registered or 0,
        took_part=took_part or 0,
        reports=reports[0],
        handled=reports[1],
        wishes=wishes[0],
        claimed=wishes[1],
    )
