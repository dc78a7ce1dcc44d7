"""In-service registration (双报到): an in-service Party member registers with the community they live
in (workplace, date); staff see who registered with their communities and who of them took part in at
least one activity in a period, the participation rate the district reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from points_service.activities.models import Activity, ActivitySignup
from points_service.earning import EarningService
from points_service.errors import DomainError, InvalidInput, NotFound
from points_service.org.models import Member, OrgUnit, ServiceRegistration


class NotInService(DomainError):
    code = "not_in_service"
    title = "Only in-service Party members (在职党员) register with a community"


@dataclass(frozen=True)
class Registered:
    registration: ServiceRegistration
    name: str
    community_name: str
    took_part: bool


class RegistrationService(EarningService):
    async def register(
        self, member_id: uuid.UUID | None, community_id: uuid.UUID, workplace: str, registered_on: date | None
    ) -> ServiceRegistration:
        """Members register themselves with any community; staff register a member with a community of
        their subtree. Registering again moves the member to the new community."""
        if self._principal.role == "member":
            if member_id not in (None, self._principal.member_id):
                raise NotFound(f"No such member: {member_id}")
            member_id = self._principal.member_id
            community = await self._session.scalar(
                select(OrgUnit).where(OrgUnit.tenant_id == self._tenant_id, OrgUnit.id == community_id)
            )
            if community is None:
                raise NotFound(f"No such org unit: {community_id}")
        else:
            if member_id is None:
                raise InvalidInput("member_id", "staff register a member: name them")
            community = await self._org.unit_in_reach(community_id)
        if community.kind != "community":
            raise InvalidInput("community_id", "members register with a community (an org unit of kind community)")
        member = await self._session.scalar(
            select(Member).where(Member.tenant_id == self._tenant_id, Member.id == member_id).with_for_update()
        )
        if member is None:
            raise NotFound(f"No such member: {member_id}")
        if member.party_status != "in_service":
            raise NotInService()
        registration = await self._session.scalar(
            select(ServiceRegistration).where(
                ServiceRegistration.tenant_id == self._tenant_id, ServiceRegistration.member_id == member.id
            )
        )
        if registration is None:
            registration = ServiceRegistration(id=uuid.uuid4(), tenant_id=self._tenant_id, member_id=member.id)
            self._session.add(registration)
        registration.community_id = community.id
        registration.workplace = workplace
        registration.registered_on = registered_on or self._clock.today()
        registration.created_by = self._principal.account_id
        await self._session.flush()
        return registration

    async def mine(self) -> ServiceRegistration | None:
        return await self._session.scalar(
            select(ServiceRegistration).where(
                ServiceRegistration.tenant_id == self._tenant_id,
                ServiceRegistration.member_id == self._principal.member_id,
            )
        )

    async def registered(self, unit_id: uuid.UUID, first: date, last: date) -> list[Registered]:
        """Members registered with communities of the subtree, and whether each attended at least one
        activity (attendance confirmed by staff) starting on the tenant-local days first…last."""
        if last < first:
            raise InvalidInput("to", "must be on or after `from`")
        subtree = await self._org.reach(within=unit_id)
        start = datetime.combine(first, time(), self._clock.zone)
        end = datetime.combine(last + timedelta(days=1), time(), self._clock.zone)
        took_part = (
            select(ActivitySignup.id)
            .join(
                Activity,
                (Activity.tenant_id == ActivitySignup.tenant_id) & (Activity.id == ActivitySignup.activity_id),
            )
            .where(
                ActivitySignup.tenant_id == ServiceRegistration.tenant_id,
                ActivitySignup.member_id == ServiceRegistration.member_id,
                ActivitySignup.attended.is_(True),
                Activity.starts_at >= start,
                Activity.starts_at < end,
            )
            .exists()
        )
        rows = await self._session.execute(
            select(ServiceRegistration, Member.name, OrgUnit.name, took_part)
            .join(
                Member,
                (Member.tenant_id == ServiceRegistration.tenant_id) & (Member.id == ServiceRegistration.member_id),
            )
            .join(
                OrgUnit,
                (OrgUnit.tenant_id == ServiceRegistration.tenant_id) & (OrgUnit.id == ServiceRegistration.community_id),
            )
            .where(ServiceRegistration.tenant_id == self._tenant_id)
            .where(subtree.clause(OrgUnit.path))
            .order_by(OrgUnit.name, Member.name, Member.id)
        )
        return [Registered(registration, name, community, bool(part)) for registration, name, community, part in rows]
