"""SQL of activities and sign-ups."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.models import Activity, ActivitySignup
from points_service.org.models import Member, OrgUnit, ServiceRegistration
from points_service.org.reach import Subtree
from points_service.rules.models import Rule


class ActivityRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def add(self, values: dict[str, Any]) -> Activity:
        activity = Activity(tenant_id=self.tenant_id, id=uuid.uuid4(), signed_up=0, **values)
        self.session.add(activity)
        await self.session.flush()
        return activity

    async def with_path(self, activity_id: uuid.UUID, for_update: bool = False) -> tuple[Activity, str] | None:
        statement = (
            select(Activity, OrgUnit.path)
            .join(OrgUnit, (OrgUnit.tenant_id == Activity.tenant_id) & (OrgUnit.id == Activity.org_unit_id))
            .where(Activity.tenant_id == self.tenant_id, Activity.id == activity_id)
        )
        if for_update:
            statement = statement.with_for_update(of=Activity)
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row else None

    async def rule(self, rule_id: uuid.UUID) -> Rule:
        rule = await self.session.scalar(select(Rule).where(Rule.tenant_id == self.tenant_id, Rule.id == rule_id))
        assert rule is not None, "an activity's rules are foreign keys"
        return rule

    async def member_path(self, member_id: uuid.UUID) -> str:
        path = await self.session.scalar(
            select(OrgUnit.path)
            .join(Member, (Member.tenant_id == OrgUnit.tenant_id) & (Member.org_unit_id == OrgUnit.id))
            .where(Member.tenant_id == self.tenant_id, Member.id == member_id)
        )
        assert path is not None, "a member always belongs to a unit"
        return path

    async def registered_path(self, member_id: uuid.UUID) -> str | None:
        """The path of the community an in-service member registered with (双报到), if any."""
        return await self.session.scalar(
            select(OrgUnit.path)
            .join(
                ServiceRegistration,
                (ServiceRegistration.tenant_id == OrgUnit.tenant_id) & (ServiceRegistration.community_id == OrgUnit.id),
            )
            .where(ServiceRegistration.tenant_id == self.tenant_id, ServiceRegistration.member_id == member_id)
        )

    async def listed(
        self,
        home: Subtree | None,
        reach: Subtree | None,
        after: datetime | None,
        limit: int,
        cursor: tuple[datetime, uuid.UUID] | None,
        community: Subtree | None = None,
    ) -> list[Activity]:
        """A member's joinable activities (their unit's ancestors and own subtree, and the community
        they registered with as an in-service member) or a staff subtree's, by start time."""
        statement = (
            select(Activity)
            .join(OrgUnit, (OrgUnit.tenant_id == Activity.tenant_id) & (OrgUnit.id == Activity.org_unit_id))
            .where(Activity.tenant_id == self.tenant_id)
        )
        if home is not None:
            joinable = [home.near_clause(OrgUnit.path)]
            if community is not None:
                joinable.append(community.clause(OrgUnit.path))
            statement = statement.where(or_(*joinable))
        if reach is not None:
            statement = reach.filter(statement, OrgUnit.path)
        if after is not None:
            statement = statement.where(Activity.ends_at > after)
        if cursor is not None:
            statement = statement.where(func.row(Activity.starts_at, Activity.id) > func.row(cursor[0], cursor[1]))
        statement = statement.order_by(Activity.starts_at, Activity.id).limit(limit + 1)
        return list(await self.session.scalars(statement))

    async def take_place(self, activity_id: uuid.UUID) -> bool:
        """One place, if one is left. A conditional UPDATE: concurrent sign-ups queue on the row and
        each sees the count the previous one left, so the activity is never oversold."""
        result = await self.session.execute(
            update(Activity)
            .where(
                Activity.tenant_id == self.tenant_id,
                Activity.id == activity_id,
                Activity.signed_up < Activity.capacity,
            )
            .values(signed_up=Activity.signed_up + 1)
            .returning(Activity.id)
        )
        return result.first() is not None

    async def give_back_place(self, activity_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Activity)
            .where(Activity.tenant_id == self.tenant_id, Activity.id == activity_id)
            .values(signed_up=Activity.signed_up - 1)
        )

    async def add_signup(self, activity_id: uuid.UUID, member_id: uuid.UUID, acted_by: uuid.UUID | None) -> bool:
        """Sign up, or sign up again after cancelling. False: already signed up."""
        statement = pg_insert(ActivitySignup).values(
            tenant_id=self.tenant_id,
            id=uuid.uuid4(),
            activity_id=activity_id,
            member_id=member_id,
            status="signed_up",
            acted_by=acted_by,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "activity_id", "member_id"],
            set_={"status": "signed_up", "acted_by": acted_by, "created_at": func.now()},
            where=ActivitySignup.status == "cancelled",
        ).returning(ActivitySignup.id)
        return (await self.session.execute(statement)).first() is not None

    async def signup(
        self, activity_id: uuid.UUID, member_id: uuid.UUID, for_update: bool = False
    ) -> ActivitySignup | None:
        statement = select(ActivitySignup).where(
            ActivitySignup.tenant_id == self.tenant_id,
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.member_id == member_id,
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def signups(self, activity_id: uuid.UUID) -> list[tuple[ActivitySignup, str]]:
        rows = await self.session.execute(
            select(ActivitySignup, Member.name)
            .join(Member, (Member.tenant_id == ActivitySignup.tenant_id) & (Member.id == ActivitySignup.member_id))
            .where(
                ActivitySignup.tenant_id == self.tenant_id,
                ActivitySignup.activity_id == activity_id,
                ActivitySignup.status == "signed_up",
            )
            .order_by(ActivitySignup.created_at, ActivitySignup.id)
        )
        return [(signup, name) for signup, name in rows]

    async def member_signups(
        self, member_id: uuid.UUID, limit: int, cursor: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[ActivitySignup, Activity]]:
        statement = (
            select(ActivitySignup, Activity)
            .join(
                Activity,
                and_(Activity.tenant_id == ActivitySignup.tenant_id, Activity.id == ActivitySignup.activity_id),
            )
            .where(ActivitySignup.tenant_id == self.tenant_id, ActivitySignup.member_id == member_id)
        )
        if cursor is not None:
            statement = statement.where(
                func.row(ActivitySignup.created_at, ActivitySignup.id) < func.row(cursor[0], cursor[1])
            )
        statement = statement.order_by(ActivitySignup.created_at.desc(), ActivitySignup.id.desc()).limit(limit + 1)
        return [(signup, activity) for signup, activity in await self.session.execute(statement)]

    async def record_attendance(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(
                update(ActivitySignup),
                [{"tenant_id": self.tenant_id, **row} for row in rows],
            )
