"""What the console reads that the staff API does not offer as such: the units a staff member starts
from, member counts per unit, the evaluations in reach, and the names of members and units that the
services' rows refer to by id."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.models import Evaluation
from points_service.auth.principal import Principal
from points_service.org.models import Member, OrgUnit
from points_service.org.reach import Subtree


@dataclass(frozen=True)
class UnitCount:
    unit: OrgUnit
    members: int


class ConsoleRecords:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal

    async def home_units(self) -> list[OrgUnit]:
        """A staff member's own unit; for a tenant admin, the tenant's top-level units."""
        statement = select(OrgUnit).where(OrgUnit.tenant_id == self._principal.tenant_id)
        if self._principal.org_unit_id is not None:
            statement = statement.where(OrgUnit.id == self._principal.org_unit_id)
        else:
            statement = statement.where(OrgUnit.parent_id.is_(None))
        return list(await self._session.scalars(statement.order_by(OrgUnit.name, OrgUnit.id)))

    async def counts(self, units: list[OrgUnit]) -> list[UnitCount]:
        """Members in each unit's subtree, one query for all of them."""
        if not units:
            return []
        rows = await self._session.execute(
            text(
                """SELECT p.path, count(m.id) AS members
                     FROM unnest(CAST(:paths AS text[])) AS p(path)
                     LEFT JOIN org_units u ON u.tenant_id = :tenant AND starts_with(u.path, p.path)
                     LEFT JOIN members m ON m.tenant_id = u.tenant_id AND m.org_unit_id = u.id
                    GROUP BY p.path"""
            ),
            {"tenant": self._principal.tenant_id, "paths": [unit.path for unit in units]},
        )
        by_path = {row.path: int(row.members) for row in rows}
        return [UnitCount(unit, by_path.get(unit.path, 0)) for unit in units]

    async def evaluations(self, reach: Subtree) -> list[Evaluation]:
        """Evaluations of units in the caller's subtree, newest first."""
        statement = (
            select(Evaluation)
            .join(OrgUnit, (OrgUnit.tenant_id == Evaluation.tenant_id) & (OrgUnit.id == Evaluation.org_unit_id))
            .where(Evaluation.tenant_id == self._principal.tenant_id, reach.clause(OrgUnit.path))
            .order_by(Evaluation.created_at.desc(), Evaluation.id)
            .limit(200)
        )
        return list(await self._session.scalars(statement))

    async def cadre_positions(self, reach: Subtree) -> list[str]:
        """The cadre positions members in reach hold (书记, 委员, 网格长 …), for limiting an evaluation."""
        statement = (
            select(Member.cadre_position)
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .where(
                Member.tenant_id == self._principal.tenant_id,
                Member.cadre_position.is_not(None),
                reach.clause(OrgUnit.path),
            )
            .distinct()
            .order_by(Member.cadre_position)
            .limit(100)
        )
        return [position for position in await self._session.scalars(statement) if position]

    async def member_names(self, member_ids: Collection[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        """Names of the members that rows already in the caller's reach name (a claimant, a reporter)."""
        wanted = {member_id for member_id in member_ids if member_id is not None}
        if not wanted:
            return {}
        rows = await self._session.execute(
            select(Member.id, Member.name).where(Member.tenant_id == self._principal.tenant_id, Member.id.in_(wanted))
        )
        return {member_id: name for member_id, name in rows}

    async def units(self, unit_ids: Collection[uuid.UUID | None]) -> dict[uuid.UUID, OrgUnit]:
        wanted = {unit_id for unit_id in unit_ids if unit_id is not None}
        if not wanted:
            return {}
        rows = await self._session.scalars(
            select(OrgUnit).where(OrgUnit.tenant_id == self._principal.tenant_id, OrgUnit.id.in_(wanted))
        )
        return {unit.id: unit for unit in rows}
