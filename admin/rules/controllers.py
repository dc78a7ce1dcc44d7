from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.guards import require_admin
from points_service.auth.principal import Principal
from points_service.rules.models import Rule
from points_service.rules.service import RuleService

MAX_INT = 1_000_000_000
Cap = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT)]


class RuleCreate(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    category: Literal["volunteer", "duty", "wish", "report", "meeting", "feedback", "penalty", "other"]
    points: Annotated[int, msgspec.Meta(ge=-MAX_INT, le=MAX_INT)]
    unit: Literal["each", "hour"] = "each"
    daily_cap: Cap | None = None
    monthly_cap: Cap | None = None
    requires_approval: bool = False


def rule_body(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "code": rule.code,
        "name": rule.name,
        "category": rule.category,
        "points": rule.points,
        "unit": rule.unit,
        "daily_cap": rule.daily_cap,
        "monthly_cap": rule.monthly_cap,
        "requires_approval": rule.requires_approval,
        "active": rule.is_active,
    }


class RuleController(Controller):
    path = "/rules"
    tags = ["admin: rules"]

    @post("/", guards=[require_admin], summary="Create a rule (admins only)")
    async def create(self, data: RuleCreate, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
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
    async def list_rules(self, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        rules = await RuleService(db_session, principal.tenant_id).all()
        return {"items": [rule_body(rule) for rule in rules], "next_cursor": None}
