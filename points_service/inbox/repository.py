"""Reading the member's notices and marking them read: always one member's own rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.inbox.models import MemberNotice


class Inbox:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID):
        self._session = session
        self._tenant_id = tenant_id
        self._member_id = member_id

    def _mine(self) -> list:
        return [MemberNotice.tenant_id == self._tenant_id, MemberNotice.member_id == self._member_id]

    async def newest(self, limit: int, before: tuple[datetime, uuid.UUID] | None = None) -> list[MemberNotice]:
        statement = select(MemberNotice).where(*self._mine())
        if before is not None:
            statement = statement.where(func.row(MemberNotice.created_at, MemberNotice.id) < func.row(*before))
        statement = statement.order_by(MemberNotice.created_at.desc(), MemberNotice.id.desc()).limit(limit)
        return list(await self._session.scalars(statement))

    async def unread(self) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(MemberNotice).where(*self._mine(), MemberNotice.read_at.is_(None))
        )
        return int(count or 0)

    async def mark_read(self, ids: Sequence[uuid.UUID] | None) -> int:
        """Mark the member's unread notices read: those of `ids`, or all of them; another member's ids
        match nothing."""
        statement = update(MemberNotice).where(*self._mine(), MemberNotice.read_at.is_(None))
        if ids is not None:
            statement = statement.where(MemberNotice.id.in_(list(ids)))
        result = await self._session.execute(
            statement.values(read_at=func.now()).returning(MemberNotice.id).execution_options(synchronize_session=False)
        )
        return len(result.all())
