from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.database.driver import DriverStatement
from points_service.errors import Conflict, InvalidInput, NotFound
from points_service.rules.models import Rule

# Built once: every award looks its rule up, and building a statement costs more than running it.
ACTIVE_RULE_BY_CODE = select(Rule).where(
    Rule.tenant_id == bindparam("tenant"), Rule.code == bindparam("code"), Rule.is_active.is_(True)
)

# One statement whatever the number of codes (an IN list would be a new prepared statement per length).
ACTIVE_RULES_BY_CODES = DriverStatement(
    text(
        f"""SELECT {", ".join(column.name for column in Rule.__table__.columns)}
              FROM rules WHERE tenant_id = :tenant AND code = ANY(CAST(:codes AS text[])) AND is_active"""  # noqa: S608 - the model's own column names
    )
)


class RuleService:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id

    async def create(
        self,
        code: str,
        name: str,
        category: str,
        points: int,
        unit: str,
        daily_cap: int | None,
        monthly_cap: int | None,
        requires_approval: bool,
    ) -> Rule:
        if category == "penalty" and points >= 0:
            raise InvalidInput("points", "a penalty rule has negative points")
        if category != "penalty" and points <= 0:
            raise InvalidInput("points", "only a penalty rule may have negative points; zero earns nothing")
        rule = Rule(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            code=code,
            name=name,
            category=category,
            points=points,
            unit=unit,
            daily_cap=daily_cap,
            monthly_cap=monthly_cap,
            requires_approval=requires_approval,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(rule)
                await self._session.flush()
        except IntegrityError as error:
            raise Conflict(f"A rule with code {code!r} already exists") from error
        return rule

    async def by_id(self, rule_id: uuid.UUID) -> Rule:
        """A rule something already refers to (a claim, a post): active or not, it is the one that pays."""
        rule = await self._session.scalar(select(Rule).where(Rule.tenant_id == self._tenant_id, Rule.id == rule_id))
        assert rule is not None, "a rule is referred to by foreign key"
        return rule

    async def by_code(self, code: str) -> Rule:
        rule = await self._session.scalar(ACTIVE_RULE_BY_CODE, {"tenant": self._tenant_id, "code": code})
        if rule is None:
            raise NotFound(f"No such rule: {code}")
        return rule

    async def by_codes(self, codes: set[str]) -> dict[str, Rule]:
        """The active rules of these codes; unknown and inactive codes are left out. Read on the session's
        asyncpg connection for a group-commit batch (database/driver.py says why): the rules come back
        as objects of no session, to be read, never changed."""
        if not codes:
            return {}
        rows = await ACTIVE_RULES_BY_CODES.fetch(self._session, {"tenant": self._tenant_id, "codes": sorted(codes)})
        return {row["code"]: Rule(**dict(row.items())) for row in rows}

    async def all(self) -> list[Rule]:
        return list(
            await self._session.scalars(select(Rule).where(Rule.tenant_id == self._tenant_id).order_by(Rule.code))
        )

    async def by_id_in_tenant(self, rule_id: uuid.UUID) -> Rule:
        """A rule of this tenant named by a caller (active or not), else 404."""
        rule = await self._session.scalar(
            select(Rule).where(Rule.tenant_id == self._tenant_id, Rule.id == rule_id).with_for_update()
        )
        if rule is None:
            raise NotFound(f"No such rule: {rule_id}")
        return rule

    async def change(
        self, rule_id: uuid.UUID, name: str, daily_cap: int | None, monthly_cap: int | None, requires_approval: bool
    ) -> Rule:
        """A rule's name, caps and approval change; its points and category stay, since what has been
        paid by it was paid by those."""
        for field, cap in (("daily_cap", daily_cap), ("monthly_cap", monthly_cap)):
            if cap is not None and cap <= 0:
                raise InvalidInput(field, "must be a positive number of points, or empty for no cap")
        rule = await self.by_id_in_tenant(rule_id)
        rule.name, rule.daily_cap, rule.monthly_cap = name, daily_cap, monthly_cap
        rule.requires_approval = requires_approval
        await self._session.flush()
        return rule

    async def switch(self, rule_id: uuid.UUID, active: bool) -> Rule:
        """Switched off, a rule pays no new award by its code; what already refers to it (an activity, a
        post, a claim) still pays by it."""
        rule = await self.by_id_in_tenant(rule_id)
        rule.is_active = active
        await self._session.flush()
        return rule
