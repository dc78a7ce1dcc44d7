from __future__ import annotations

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from admin.rules.schemas import RuleCreate, RulePage, RuleView, rule_body
from points_service.auth.guards import require_admin
from points_service.auth.principal import Principal
from points_service.rules.service import RuleService


class RuleController(Controller):
    path = "/rules"
    tags = ["admin: rules"]

    @post("/", guards=[require_admin], summary="Create a rule (admins only)")
    async def create(self, data: RuleCreate, principal: Principal, db_session: AsyncSession) -> RuleView:
        rule = await RuleService(db_session, principal.tenant_id).create(
            data.code,
            data.name.strip(),
            data.category,
            data.points,
            data.unit,
            data.daily_cap,
            data.monthly_cap,
            data.requires_approval,
        )
        return rule_body(rule)

    @get("/", summary="All rules of the tenant")
    async def list_rules(self, principal: Principal, db_session: AsyncSession) -> RulePage:
        rules = await RuleService(db_session, principal.tenant_id).all()
        return RulePage([rule_body(rule) for rule in rules], next_cursor=None)
