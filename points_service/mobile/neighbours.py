"""What the member page's community screens read that no service hands out: the communities a member may
register with, the members a proxy acts for, a member's name and unit, and who made a registration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.models import LoginAccount
from points_service.org.models import Member, OrgUnit
from points_service.org.names import mask_name
from points_service.org.reach import Subtree
from points_service.proxies.models import ProxyAppointment

COMMUNITIES_SHOWN = 500
CHOICES_SHOWN = 100


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    # As the page shows it: a member's name masked (王**), a unit's in full.
    name: str


async def communities(session: AsyncSession, tenant_id: uuid.UUID) -> list[Choice]:
    rows = await session.execute(
        select(OrgUnit.id, OrgUnit.name)
        .where(OrgUnit.tenant_id == tenant_id, OrgUnit.kind == "community")
        .order_by(OrgUnit.name, OrgUnit.id)
        .limit(COMMUNITIES_SHOWN)
    )
    return [Choice(unit_id, name) for unit_id, name in rows]


async def acted_for(session: AsyncSession, tenant_id: uuid.UUID, proxy_member_id: uuid.UUID) -> list[Choice]:
    """The members this proxy was appointed for, directly or through a unit (its whole subtree)."""
    appointments = (
        await session.execute(
            select(ProxyAppointment.member_id, OrgUnit.path)
            .outerjoin(
                OrgUnit,
                (OrgUnit.tenant_id == ProxyAppointment.tenant_id) & (OrgUnit.id == ProxyAppointment.org_unit_id),
            )
            .where(ProxyAppointment.tenant_id == tenant_id, ProxyAppointment.proxy_member_id == proxy_member_id)
        )
    ).all()
    direct = [member_id for member_id, _ in appointments if member_id is not None]
    conditions = [Member.id.in_(direct)] if direct else []
    conditions += [Subtree(path).clause(OrgUnit.path) for _, path in appointments if path is not None]
    if not conditions:
        return []
    statement = (
        select(Member.id, Member.name)
        .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
        .where(Member.tenant_id == tenant_id, Member.id != proxy_member_id)
        .where(or_(*conditions))
        .order_by(Member.name, Member.id)
        .limit(CHOICES_SHOWN)
    )
    return [Choice(member_id, mask_name(name)) for member_id, name in await session.execute(statement)]


@dataclass(frozen=True)
class Neighbour:
    id: uuid.UUID
    name: str
    org_unit_id: uuid.UUID
    party_status: str


async def member_of(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Neighbour | None:
    row = (
        await session.execute(
            select(Member.name, Member.org_unit_id, Member.party_status).where(
                Member.tenant_id == tenant_id, Member.id == member_id
            )
        )
    ).first()
    return None if row is None else Neighbour(member_id, row[0], row[1], row[2])


async def unit_name(session: AsyncSession, tenant_id: uuid.UUID, unit_id: uuid.UUID) -> str:
    name = await session.scalar(select(OrgUnit.name).where(OrgUnit.tenant_id == tenant_id, OrgUnit.id == unit_id))
    return name or ""


async def made_by_staff(session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID) -> bool:
    """Whether a login is staff's: a registration staff made (or made again) is the community's
    confirmation of it."""
    role = await session.scalar(
        select(LoginAccount.role).where(LoginAccount.tenant_id == tenant_id, LoginAccount.id == account_id)
    )
    return role in ("staff", "admin")
