"""The one owner of "is this inside that subtree": staff reach only their org subtree.

Org units carry a materialised path of ids (`/<id>/<id>/`), so a unit's subtree is every path that
starts with its own. Every test of that kind, in Python or as a SQL condition, goes through
`Subtree`; the org service hands out the caller's (`OrgService.reach`). Anything outside the
caller's reach answers 404, exactly as if it did not exist (docs/api.md, "Conventions").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, true

from points_service.auth.principal import Principal
from points_service.errors import Forbidden, NotFound

S = TypeVar("S", bound=Select)


@dataclass(frozen=True, slots=True)
class Subtree:
    """An org unit and everything below it, named by the unit's path; "" is the whole tenant."""

    path: str

    def covers(self, path: str | None) -> bool:
        return path is not None and path.startswith(self.path)

    def require(self, path: str | None, refusal: str) -> None:
        """Refuse with 404 (`refusal` is its detail) unless `path` lies in this subtree."""
        if not self.covers(path):
            raise NotFound(refusal)

    def clause(self, path_column: Any) -> ColumnElement[bool]:
        # `LIKE '<prefix>%'`, which the (tenant_id, path text_pattern_ops) index answers by a range scan.
        return path_column.startswith(self.path, autoescape=True) if self.path else true()

    def filter(self, statement: S, path_column: Any) -> S:
        """`statement` narrowed to rows whose `path_column` lies in this subtree."""
        return statement.where(self.clause(path_column)) if self.path else statement

    def near(self, path: str) -> bool:
        """Whether a unit is this one, above it or below it: what a member sees and joins from here."""
        return self.covers(path) or Subtree(path).covers(self.path)

    def near_clause(self, path_column: Any) -> ColumnElement[bool]:
        """`near` as a SQL condition on a unit path column, for lists."""
        return or_(func.starts_with(self.path, path_column), self.clause(path_column))


def staff_reach(principal: Principal, unit_paths: Mapping[uuid.UUID, str]) -> Subtree:
    """The subtree a caller reaches: the whole tenant for a tenant admin, their unit's for staff
    (`unit_paths` holds that unit's path when it exists)."""
    if principal.is_admin:
        return Subtree("")
    if principal.org_unit_id is None:
        raise Forbidden("This account is not attached to an org unit")
    path = unit_paths.get(principal.org_unit_id)
    if path is None:
        raise Forbidden("This account's org unit no longer exists")
    return Subtree(path)
