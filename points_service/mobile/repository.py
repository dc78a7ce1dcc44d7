"""What the member page reads that no service hands out: the member's own name and home unit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.errors import NotFound
from points_service.org.models import Member, OrgUnit


@dataclass(frozen=True)
class MemberCard:
    name: str
    unit_name: str


async def member_card(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID) -> MemberCard:
    row = (
        await session.execute(
            select(Member.name, OrgUnit.name)
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .where(Member.tenant_id == tenant_id, Member.id == member_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No such member: {member_id}")
    return MemberCard(row[0], row[1])
