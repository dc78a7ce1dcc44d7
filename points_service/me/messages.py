"""The member's messages over the API: the newest first with the unread count, and marking them read."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.guards import require_member
from points_service.auth.principal import Principal
from points_service.database.session import READS_ONE_SNAPSHOT
from points_service.deps import tenant_clock_of
from points_service.inbox.repository import Inbox
from points_service.inbox.schemas import MarkedRead, MarkRead, MessagePage, message_page
from points_service.pagination import Cursor, Limit, decode_cursor


def inbox_of(session: AsyncSession, principal: Principal) -> Inbox:
    assert principal.member_id is not None  # require_member
    return Inbox(session, principal.tenant_id, principal.member_id)


class MessagesController(Controller):
    path = "/me/messages"
    tags = ["me"]

    @get(
        "/",
        guards=[require_member],
        summary="My messages, newest first, with how many are unread",
        opt={READS_ONE_SNAPSHOT: True},
    )
    async def messages(
        self, principal: Principal, db_session: AsyncSession, state: State, limit: Limit = 50, cursor: Cursor = None
    ) -> MessagePage:
        inbox = inbox_of(db_session, principal)
        notices = await inbox.newest(limit + 1, decode_cursor(cursor))
        zone = (await tenant_clock_of(state, principal.tenant_id)).zone

        def local(moment: datetime) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        return message_page(notices, limit, await inbox.unread(), local)

    @post("/read", status_code=200, guards=[require_member], summary="Mark my messages read (these ids, or all)")
    async def mark_read(
        self, principal: Principal, db_session: AsyncSession, data: MarkRead | None = None
    ) -> MarkedRead:
        inbox = inbox_of(db_session, principal)
        marked = await inbox.mark_read(data.ids if data else None)
        return MarkedRead(marked, await inbox.unread())
