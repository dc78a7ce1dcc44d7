"""Changes staff make to the roster by hand: a member's details or unit, a unit's name or parent. Always
inside the caller's reach (OrgService), a move's target too."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.models import LoginAccount
from points_service.errors import Conflict, DomainError
from points_service.org.models import Member, OrgUnit
from points_service.org.names import pinyin_initials
from points_service.org.reach import Subtree
from points_service.org.service import OrgService

# One unit move of a tenant at a time: two moves checked against the same tree could together put a
# unit below itself. The key is the tenant's; the lock ends with the transaction.
MOVE_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('org-move:' || CAST(:tenant AS text), 0))")
MOVE_SUBTREE = text(
    """UPDATE org_units
          SET path = :new_path || substr(path, length(:old_path) + 1)
        WHERE tenant_id = :tenant AND starts_with(path, :old_path)"""
)


class MoveIntoOwnSubtree(DomainError):
    status_code = 409
    code = "move_into_own_subtree"
    title = "A unit cannot be moved below itself"


class RosterEdits:
    def __init__(self, session: AsyncSession, org: OrgService, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._org = org
        self._tenant_id = tenant_id

    async def edit_member(
        self,
        member_id: uuid.UUID,
        *,
        name: str | None = None,
        phone: str | None = None,
        org_unit_id: uuid.UUID | None = None,
        party_status: str | None = None,
        cadre_position: str | bool | None = False,
    ) -> Member:
        """Change what is given (`cadre_position=False` leaves it; None clears it)."""
        member = await self._org.member_in_reach(member_id)
        if org_unit_id is not None:
            await self._org.unit_in_reach(org_unit_id)
            member.org_unit_id = org_unit_id
        if name is not None:
            member.name = name
            member.pinyin_initials = pinyin_initials(name)
        if phone is not None:
            member.phone = phone
        if party_status is not None:
            member.party_status = party_status
        if cadre_position is not False:
            member.cadre_position = cadre_position or None
        try:
            async with self._session.begin_nested():
                await self._session.flush()
        except IntegrityError as error:
            raise Conflict("A member with this phone number already exists") from error
        return member

    async def rename_unit(self, unit_id: uuid.UUID, name: str) -> OrgUnit:
        unit = await self._org.unit_in_reach(unit_id)
        unit.name = name
        await self._session.flush()
        return unit

    async def move_unit(self, unit_id: uuid.UUID, parent_id: uuid.UUID) -> OrgUnit:
        """Put a unit (with everything below it: units, members) under another unit of the caller's
        reach. Every materialised path of the subtree changes in this one transaction; the caller drops
        what caches paths (the leaderboards) once it commits."""
        await self._session.execute(MOVE_LOCK, {"tenant": str(self._tenant_id)})
        unit = await self._org.unit_in_reach(unit_id)
        parent = await self._org.unit_in_reach(parent_id)
        # The paths are read after the lock, so a move committed meanwhile is seen.
        await self._session.refresh(unit)
        await self._session.refresh(parent)
        if Subtree(unit.path).covers(parent.path):
            raise MoveIntoOwnSubtree(f"{parent.name} is {unit.name} itself or below it")
        if unit.parent_id == parent.id:
            return unit
        new_path = f"{parent.path}{unit.id.hex}/"
        await self._session.execute(
            MOVE_SUBTREE, {"tenant": self._tenant_id, "old_path": unit.path, "new_path": new_path}
        )
        unit.parent_id = parent.id
        await self._session.flush()
        await self._session.refresh(unit)
        return unit

    async def units_with_depth(self, most: int = 2000) -> list[tuple[OrgUnit, int]]:
        """The units of the caller's reach in tree order, each with its depth below the highest (for a
        choice of unit)."""
        reach = await self._org.reach()
        statement = select(OrgUnit).where(OrgUnit.tenant_id == self._tenant_id)
        units = list(
            await self._session.scalars(reach.filter(statement, OrgUnit.path).order_by(OrgUnit.path).limit(most))
        )
        top = min((unit.path.count("/") for unit in units), default=0)
        return [(unit, unit.path.count("/") - top) for unit in units]

    async def unit_names(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self._session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.tenant_id == self._tenant_id, OrgUnit.id.in_(list(ids)))
        )
        return {row.id: row.name for row in rows}

    async def login_of(self, member_id: uuid.UUID) -> LoginAccount | None:
        """The member's login, if they have one (the caller has checked the member is in reach)."""
        return await self._session.scalar(
            select(LoginAccount).where(LoginAccount.tenant_id == self._tenant_id, LoginAccount.member_id == member_id)
        )
