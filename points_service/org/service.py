"""Org tree and members, and the scope rule every staff call obeys: staff reach only their subtree.

`OrgService.reach` hands out the caller's `Subtree` (org/reach.py), the one place that tests whether
something lies inside it. Anything outside the caller's reach answers 404, exactly as if it did not
exist (docs/api.md, "Conventions").
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, TextClause, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.accounts import create_login
from points_service.auth.principal import Principal
from points_service.database.driver import DriverStatement
from points_service.errors import Conflict, Forbidden, NotFound
from points_service.ledger.service import LedgerService
from points_service.org.models import Member, OrgUnit
from points_service.org.names import pinyin_initials
from points_service.org.reach import Subtree, staff_reach

# Each member's unit path as a subquery per member, so that the plan starts from the members' ids.
MEMBER_UNIT_PATHS = text(
    """
    SELECT m.id,
           (SELECT u.path FROM org_units u WHERE u.tenant_id = m.tenant_id AND u.id = m.org_unit_id) AS path
      FROM members m
     WHERE m.tenant_id = :tenant AND m.id = ANY(:ids)
    """
)

UNIT_PATHS = text("SELECT id, path FROM org_units WHERE tenant_id = :tenant AND id = ANY(:ids)")

# A group-commit batch's members: where each stands and whether it is switched on, in one round trip on
# the session's asyncpg connection (database/driver.py says why).
MEMBER_PLACES = DriverStatement(
    text(
        """
    SELECT m.id, m.active,
           (SELECT u.path FROM org_units u WHERE u.tenant_id = m.tenant_id AND u.id = m.org_unit_id) AS path
      FROM members m
     WHERE m.tenant_id = :tenant AND m.id = ANY(:ids)
    """
    )
)


@dataclass(frozen=True)
class MemberPlace:
    path: str
    active: bool


async def member_unit_paths(
    session: AsyncSession, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each known member's unit path, for reach checks of many callers at once (group commit)."""
    return await _paths(session, MEMBER_UNIT_PATHS, tenant_id, member_ids)


async def member_places(
    session: AsyncSession, tenant_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MemberPlace]:
    """Each known member's unit path and whether it is active, for the reach and active checks of many
    callers at once (group commit)."""
    if not member_ids:
        return {}
    rows = await MEMBER_PLACES.fetch(session, {"tenant": tenant_id, "ids": list(set(member_ids))})
    return {row["id"]: MemberPlace(row["path"], row["active"]) for row in rows}


async def unit_paths(
    session: AsyncSession, tenant_id: uuid.UUID, unit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    return await _paths(session, UNIT_PATHS, tenant_id, unit_ids)


async def _paths(
    session: AsyncSession, statement: TextClause, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(statement, {"tenant": tenant_id, "ids": list(set(ids))})
    return {row.id: row.path for row in rows}


def _all_found(member_ids: Sequence[uuid.UUID], found: Container[uuid.UUID]) -> None:
    for member_id in member_ids:
        if member_id not in found:
            raise NotFound(f"No such member: {member_id}")


class OrgService:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal
        self._tenant_id = principal.tenant_id
        self._reach: Subtree | None = None

    # -- scope ------------------------------------------------------------------------------------

    async def reach(self, within: uuid.UUID | None = None) -> Subtree:
        """The subtree the caller reaches (the whole tenant for a tenant admin, their unit's for
        staff), or that of the unit `within`, which must lie in it (else 404). Loaded once."""
        if self._reach is None:
            unit_id = self._principal.org_unit_id
            unit = None if self._principal.is_admin or unit_id is None else await self._unit(unit_id)
            paths = {unit.id: unit.path} if unit is not None else {}
            self._reach = staff_reach(self._principal, paths)
        if within is None:
            return self._reach
        return Subtree((await self.unit_in_reach(within)).path)

    async def unit_in_reach(self, unit_id: uuid.UUID) -> OrgUnit:
        unit = await self._unit(unit_id)
        if unit is None or not (await self.reach()).covers(unit.path):
            raise NotFound(f"No such org unit: {unit_id}")
        return unit

    async def member_in_reach(self, member_id: uuid.UUID) -> Member:
        members = await self.members_in_reach([member_id])
        return members[member_id]

    async def members_in_reach(self, member_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Member]:
        found = {member.id: member for member in await self._session.scalars(await self._reach_members(member_ids))}
        _all_found(member_ids, found)
        return found

    async def check_members_in_reach(self, member_ids: Sequence[uuid.UUID]) -> None:
        """`members_in_reach` for a caller that needs only the answer (the award path): paths alone,
        from a statement built once, without loading ORM objects."""
        reach = await self.reach()
        paths = await member_unit_paths(self._session, self._tenant_id, member_ids)
        for member_id in member_ids:
            reach.require(paths.get(member_id), f"No such member: {member_id}")

    async def _reach_members(self, member_ids: Sequence[uuid.UUID]) -> Select[Any]:
        # As in MEMBER_UNIT_PATHS: the path per member, so the plan starts from the members' ids.
        unit_path = (
            select(OrgUnit.path)
            .where(OrgUnit.tenant_id == Member.tenant_id, OrgUnit.id == Member.org_unit_id)
            .correlate(Member)
            .scalar_subquery()
        )
        statement = select(Member).where(Member.tenant_id == self._tenant_id, Member.id.in_(list(member_ids)))
        return (await self.reach()).filter(statement, unit_path)

    async def member_unit_path(self, member_id: uuid.UUID) -> str:
        path = await self._session.scalar(
            select(OrgUnit.path)
            .join(Member, (Member.tenant_id == OrgUnit.tenant_id) & (Member.org_unit_id == OrgUnit.id))
            .where(Member.tenant_id == self._tenant_id, Member.id == member_id)
        )
        if path is None:
            raise NotFound(f"No such member: {member_id}")
        return str(path)

    async def member_home(self, member_id: uuid.UUID) -> Subtree:
        """The subtree of a member's unit: what they see and join is `near` it."""
        return Subtree(await self.member_unit_path(member_id))

    async def near_member(self, member_id: uuid.UUID, unit_path: str) -> bool:
        """What a member may see and join: their own unit's, an ancestor's, or a unit's below theirs."""
        return (await self.member_home(member_id)).near(unit_path)

    async def near_member_clause(self, member_id: uuid.UUID, path_column: Any) -> ColumnElement[bool]:
        """`near_member` as a SQL condition on a unit path column, for lists."""
        return (await self.member_home(member_id)).near_clause(path_column)

    async def unit_path(self, unit_id: uuid.UUID) -> str:
        unit = await self._unit(unit_id)
        if unit is None:
            raise NotFound(f"No such org unit: {unit_id}")
        return unit.path

    # -- org units --------------------------------------------------------------------------------

    async def _unit(self, unit_id: uuid.UUID) -> OrgUnit | None:
        return await self._session.scalar(
            select(OrgUnit).where(OrgUnit.tenant_id == self._tenant_id, OrgUnit.id == unit_id)
        )

    async def create_unit(self, name: str, kind: str, parent_id: uuid.UUID | None) -> OrgUnit:
        if parent_id is None:
            if not self._principal.is_admin:
                raise Forbidden("Only a tenant admin creates top-level org units")
            parent_path = "/"
        else:
            parent_path = (await self.unit_in_reach(parent_id)).path
        unit_id = uuid.uuid4()
        unit = OrgUnit(
            id=unit_id,
            tenant_id=self._tenant_id,
            parent_id=parent_id,
            name=name,
            kind=kind,
            path=f"{parent_path}{unit_id.hex}/",
        )
        self._session.add(unit)
        await self._session.flush()
        return unit

    async def unit_with_children(self, unit_id: uuid.UUID) -> tuple[OrgUnit, list[OrgUnit]]:
        unit = await self.unit_in_reach(unit_id)
        children = await self._session.scalars(
            select(OrgUnit)
            .where(OrgUnit.tenant_id == self._tenant_id, OrgUnit.parent_id == unit_id)
            .order_by(OrgUnit.name, OrgUnit.id)
        )
        return unit, list(children)

    # -- members ----------------------------------------------------------------------------------

    async def create_member(
        self,
        ledger: LedgerService,
        name: str,
        phone: str,
        org_unit_id: uuid.UUID,
        party_status: str,
        cadre_position: str | None,
        username: str | None,
        password: str | None,
    ) -> Member:
        await self.unit_in_reach(org_unit_id)
        taken = await self._session.scalar(
            select(Member.id).where(Member.tenant_id == self._tenant_id, Member.phone == phone)
        )
        if taken is not None:
            raise Conflict("A member with this phone number already exists")
        member = Member(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            name=name,
            phone=phone,
            org_unit_id=org_unit_id,
            party_status=party_status,
            cadre_position=cadre_position,
            pinyin_initials=pinyin_initials(name),
        )
        try:
            async with self._session.begin_nested():
                self._session.add(member)
                await self._session.flush()
        except IntegrityError as error:
            raise Conflict("A member with this phone number already exists") from error
        await ledger.open_member_accounts(member.id)
        if username and password:
            await create_login(self._session, self._tenant_id, username, password, "member", member_id=member.id)
        return member

    async def search_members(
        self, q: str | None, org_unit_id: uuid.UUID | None, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[Member]:
        statement = (
            select(Member)
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .where(Member.tenant_id == self._tenant_id)
        )
        statement = (await self.reach(within=org_unit_id)).filter(statement, OrgUnit.path)
        if q and q.strip():
            needle = q.strip()
            conditions = [
                Member.name.contains(needle, autoescape=True),
                Member.pinyin_initials.startswith(needle.lower(), autoescape=True),
            ]
            if needle.isdigit() and len(needle) == 4:
                conditions.append(func.right(Member.phone, 4) == needle)
            statement = statement.where(or_(*conditions))
        if before is not None:
            statement = statement.where(func.row(Member.created_at, Member.id) > func.row(before[0], before[1]))
        statement = statement.order_by(Member.created_at, Member.id).limit(limit + 1)
        return list(await self._session.scalars(statement))

    async def create_staff(self, username: str, password: str, org_unit_id: uuid.UUID | None, role: str) -> Any:
        if not self._principal.is_admin:
            raise Forbidden("Only a tenant admin creates staff accounts")
        if org_unit_id is not None:
            await self.unit_in_reach(org_unit_id)
        elif role == "staff":
            raise NotFound("A staff account needs an org unit")
        return await create_login(self._session, self._tenant_id, username, password, role, org_unit_id=org_unit_id)
