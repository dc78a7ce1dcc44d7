"""Point rules as they go over the wire."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from points_service.rules.models import Rule

MAX_INT = 1_000_000_000
Cap = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT)]
Category = Literal["volunteer", "duty", "wish", "report", "meeting", "feedback", "penalty", "other"]
RuleUnit = Literal["each", "hour"]


class RuleCreate(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    category: Category
    points: Annotated[int, msgspec.Meta(ge=-MAX_INT, le=MAX_INT)]
    unit: RuleUnit = "each"
    daily_cap: Cap | None = None
    monthly_cap: Cap | None = None
    requires_approval: bool = False


class RuleView(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    category: Category
    points: int
    unit: RuleUnit
    daily_cap: int | None
    monthly_cap: int | None
    requires_approval: bool
    active: bool


class RulePage(msgspec.Struct):
    items: list[RuleView]
    next_cursor: str | None


def rule_body(rule: Rule) -> RuleView:
    return RuleView(
        id=rule.id,
        code=rule.code,
        name=rule.name,
        category=rule.category,
        points=rule.points,
        unit=rule.unit,
        daily_cap=rule.daily_cap,
        monthly_cap=rule.monthly_cap,
        requires_approval=rule.requires_approval,
        active=rule.is_active,
    )
