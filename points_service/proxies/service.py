"""Who may act for whom (代办), and how an act on someone's behalf is shown to them.

The member themselves; staff for members in their subtree; a member appointed as proxy (代办员) for
that member or for a unit whose subtree holds them. Anyone else gets 404, as if the member did not
exist. Every act for someone else records the acting login (`acted_by`), which the member sees.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.errors import InvalidInput, NotFound
from points_service.org.models import Member, OrgUnit
from points_service.org.names import mask_name
from points_service.org.reach import Subtree
from points_service.org.service import OrgService
from points_service.proxies.models import ProxyAppointment
from points_service.proxies.schemas import Actor


@dataclass(frozen=True)
class Acting:
    member_id: uuid.UUID
    # None when the member acts for themselves.
    acted_by: uuid.UUID | None


class ProxyService:
    def __init__(self, session: AsyncSession, principal: Principal, org: OrgService) -> None:
        self._session = session
        self._principal = principal
        self._tenant_id = principal.tenant_id
        self._org = org

    async def acting_for(self, member_id: uuid.UUID | None) -> Acting:
        principal = self._principal
        if principal.role == "member":
            assert principal.member_id is not None
            if member_id is None or member_id == principal.member_id:
                return Acting(principal.member_id, None)
            if not await self._is_proxy_for(principal.member_id, member_id):
                raise NotFound(f"No such member: {member_id}")
            return Acting(member_id, principal.account_id)
        if member_id is None:
            raise InvalidInput("member_id", "staff act for a member: name them")
        await self._org.member_in_reach(member_id)
        return Acting(member_id, principal.account_id)

    async def _is_proxy_for(self, proxy_member_id: uuid.UUID, member_id: uuid.UUID) -> bool:
        member_path = await self._session.scalar(
            select(OrgUnit.path)
            .join(Member, (Member.tenant_id == OrgUnit.tenant_id) & (Member.org_unit_id == OrgUnit.id))
            .where(Member.tenant_id == self._tenant_id, Member.id == member_id)
        )
        if member_path is None:
            return False
        appointments = await self._session.execute(
            select(ProxyAppointment.member_id, OrgUnit.path)
            .outerjoin(
                OrgUnit,
                (OrgUnit.tenant_id == ProxyAppointment.tenant_id) & (OrgUnit.id == ProxyAppointment.org_unit_id),
            )
            .where(ProxyAppointment.tenant_id == self._tenant_id, ProxyAppointment.proxy_member_id == proxy_member_id)
        )
        return any(
            target == member_id or (path is not None and Subtree(path).covers(member_path))
            for target, path in appointments
        )

    # -- appointments (staff) -----------------------------------------------------------------------

    async def appoint(
        self, proxy_member_id: uuid.UUID, member_id: uuid.UUID | None, org_unit_id: uuid.UUID | None
    ) -> ProxyAppointment:
        if (member_id is None) == (org_unit_id is None):
            raise InvalidInput("member_id", "name either a member or an org unit the proxy acts for")
        await self._org.member_in_reach(proxy_member_id)
        if member_id is not None:
            if member_id == proxy_member_id:
                raise InvalidInput("member_id", "a member acts for themselves without an appointment")
            await self._org.member_in_reach(member_id)
        if org_unit_id is not None:
            await self._org.unit_in_reach(org_unit_id)
        appointment = ProxyAppointment(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            proxy_member_id=proxy_member_id,
            member_id=member_id,
            org_unit_id=org_unit_id,
            appointed_by=self._principal.account_id,
        )
        self._session.add(appointment)
        await self._session.flush()
        return appointment

    async def listed(self, limit: int, before: tuple[datetime, uuid.UUID] | None) -> list[ProxyAppointment]:
        statement = (
            select(ProxyAppointment)
            .join(
                Member,
                (Member.tenant_id == ProxyAppointment.tenant_id) & (Member.id == ProxyAppointment.proxy_member_id),
            )
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .where(ProxyAppointment.tenant_id == self._tenant_id)
            .where((await self._org.reach()).clause(OrgUnit.path))
        )
        if before is not None:
            statement = statement.where(
                (ProxyAppointment.created_at, ProxyAppointment.id) > (before[0], before[1])  # type: ignore[operator]
            )
        statement = statement.order_by(ProxyAppointment.created_at, ProxyAppointment.id).limit(limit + 1)
        return list(await self._session.scalars(statement))

    async def revoke(self, appointment_id: uuid.UUID) -> None:
        appointment = await self._session.scalar(
            select(ProxyAppointment).where(
                ProxyAppointment.tenant_id == self._tenant_id, ProxyAppointment.id == appointment_id
            )
        )
        if appointment is None:
            raise NotFound(f"No such appointment: {appointment_id}")
        await self._org.member_in_reach(appointment.proxy_member_id)
        await self._session.execute(
            delete(ProxyAppointment).where(
                ProxyAppointment.tenant_id == self._tenant_id, ProxyAppointment.id == appointment_id
            )
        )


async def actors(
    session: AsyncSession, tenant_id: uuid.UUID, account_ids: Iterable[uuid.UUID | None], viewer_is_staff: bool
) -> dict[uuid.UUID, Actor]:
    """Who acted, as shown on the record: staff by login name, a proxy member by name (masked unless
    staff are looking, docs/api.md, "Masking")."""
    wanted = {account_id for account_id in account_ids if account_id is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(LoginAccount.id, LoginAccount.role, LoginAccount.username, Member.name)
        .outerjoin(Member, (Member.tenant_id == LoginAccount.tenant_id) & (Member.id == LoginAccount.member_id))
        .where(LoginAccount.tenant_id == tenant_id, LoginAccount.id.in_(wanted))
    )
    shown: dict[uuid.UUID, Actor] = {}
    for account_id, role, username, member_name in rows:
        name = username
        if member_name is not None:
            name = member_name if viewer_is_staff else mask_name(member_name)
        shown[account_id] = Actor(account_id, role, name)
    return shown


async def actor_label(session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID) -> str:
    """How a ledger note names who acted: "代办: <name>"."""
    shown = await actors(session, tenant_id, [account_id], viewer_is_staff=False)
    return f"代办: {shown[account_id].name}" if account_id in shown else "代办"


async def note_naming_proxy(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    note: str,
    member_id: uuid.UUID,
    account_ids: Iterable[uuid.UUID | None],
) -> str:
    """An award's note, naming the first of `account_ids` that is not the member's own login: the
    member's history says who acted for them (代办)."""
    for account_id in account_ids:
        if account_id is None:
            continue
        own = await session.scalar(
            select(LoginAccount.member_id).where(LoginAccount.tenant_id == tenant_id, LoginAccount.id == account_id)
        )
        if own != member_id:
            return f"{note} ({await actor_label(session, tenant_id, account_id)})"
    return note
