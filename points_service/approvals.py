"""What waits for a staff decision, as every package declares it: one `PendingSource` per kind of item.

The staff approvals queue (admin/approvals) merges the sources by (created_at, id). A package that is not
the core declares its sources in its plugin (`PackagePlugin.pending_sources`), so the queue lists them
without importing the package.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from points_service.org.models import OrgUnit
from points_service.org.reach import Subtree


@dataclass(frozen=True)
class PendingQuery:
    session: AsyncSession
    tenant_id: uuid.UUID
    reach: Subtree  # the caller's
    after: tuple[datetime, uuid.UUID] | None  # the cursor: items strictly after this (created_at, id)
    limit: int  # return at most this many (the queue asks for one more than a page)
    now: datetime


@dataclass(frozen=True)
class PendingItem:
    kind: str
    id: uuid.UUID
    created_at: datetime  # when it started waiting; the queue is oldest first
    unit_id: uuid.UUID
    unit_name: str
    link: str  # the API path that shows or decides it
    summary: str
    member_id: uuid.UUID | None = None
    # Staff read the queue, and staff see names unmasked (docs/api.md, "Masking").
    member_name: str | None = None


Provider = Callable[[PendingQuery], Awaitable[list[PendingItem]]]


@dataclass(frozen=True)
class PendingSource:
    """One area's pending work, declared. `rows` selects, for the tenant, the waiting rows as
    (row, unit id, unit name, member id, member name, *details) with `OrgUnit` joined as the unit that
    handles them: the caller's reach is applied to that unit. The queue's order is (`waiting_since`, id)."""

    kind: str
    rows: Callable[[PendingQuery], Select[Any]]
    waiting_since: InstrumentedAttribute[datetime]
    link: str  # the API path that shows or decides an item, with `{id}`
    summary: Callable[..., str]  # (row, *details) -> how the item reads in the queue

    async def __call__(self, query: PendingQuery) -> list[PendingItem]:
        order = (self.waiting_since, self.waiting_since.class_.id)
        statement = self.rows(query).where(query.reach.clause(OrgUnit.path))
        if query.after is not None:
            statement = statement.where(func.row(*order) > func.row(*query.after))
        statement = statement.order_by(*order).limit(query.limit)
        return [
            PendingItem(
                kind=self.kind,
                id=row.id,
                created_at=getattr(row, self.waiting_since.key),
                unit_id=unit_id,
                unit_name=unit_name,
                link=self.link.format(id=row.id),
                summary=self.summary(row, *details),
                member_id=member_id,
                member_name=member_name,
            )
            for row, unit_id, unit_name, member_id, member_name, *details in await query.session.execute(statement)
        ]
