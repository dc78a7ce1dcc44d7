"""The staff approvals queue: every provider's pending items of the caller's subtree, oldest first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from admin.approvals.providers import PROVIDERS, PendingItem, PendingQuery, PendingSource, Provider
from points_service.errors import InvalidInput
from points_service.org.service import OrgService


class ApprovalQueue:
    def __init__(
        self, session: AsyncSession, tenant_id: uuid.UUID, org: OrgService, offered: Sequence[PendingSource] = ()
    ) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._org = org
        # The core's sources and those other packages offer (their plugins' `pending_sources`).
        self._providers: dict[str, Provider] = {**PROVIDERS, **{source.kind: source for source in offered}}

    async def pending(
        self, kinds: list[str] | None, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[PendingItem]:
        """Up to limit + 1 items (the extra one says whether a next page exists)."""
        unknown = [kind for kind in kinds or [] if kind not in self._providers]
        if unknown:
            raise InvalidInput("kind", f"one of {', '.join(self._providers)}")
        query = PendingQuery(
            self._session, self._tenant_id, await self._org.reach(), after, limit + 1, datetime.now(UTC)
        )
        items: list[PendingItem] = []
        # One session, so providers run one after another; each returns at most a page and a bit.
        for kind, provider in self._providers.items():
            if not kinds or kind in kinds:
                items.extend(await provider(query))
        items.sort(key=lambda item: (item.created_at, item.id))
        return items[: limit + 1]
