"""The member page's messages (消息) and its text size (大字).

Opening the messages marks them read: the screen shows which were new on this visit, and the badge on
the home tab counts down to nothing. The text size is a cookie set by a form post (the page allows no
inline script), read by the frame, which then loads the larger stylesheet."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.deps import tenant_clock_of
from points_service.inbox.repository import Inbox
from points_service.inbox.words import say
from points_service.mobile.acting import ACTING_KEY, acting_for
from points_service.mobile.page import MEMBER_PAGE
from points_service.web import Message, local_time, set_page_cookie

AnyRequest = Request[Any, Any, Any]
MESSAGES_PATH = "/member/messages"
MESSAGES_SHOWN = 100
TEXT_SIZE_COOKIE = "rp_member_text"
TEXT_SIZES = ("large", "normal")
# A choice for the long run: the phone is the elder's own.
TEXT_SIZE_SECONDS = 400 * 24 * 3600


UNREAD_KEY = "member_unread"


async def unread_messages(db_session: AsyncSession, principal: Principal) -> int:
    assert principal.member_id is not None
    return await Inbox(db_session, principal.tenant_id, principal.member_id).unread()


async def member_with_unread(request: AnyRequest, state: State, db_session: AsyncSession) -> Principal:
    """The signed-in member (the page's own provider), how many messages they have not read and whom
    they act for (代办), kept on the request for the frame of every screen: the badge on the home tab
    and the "正在为 王** 代办" line."""
    principal = await MEMBER_PAGE.user(request, state)
    request.state[UNREAD_KEY] = await unread_messages(db_session, principal)
    request.state[ACTING_KEY] = await acting_for(request, db_session, principal)
    return principal


class InboxScreen(Controller):
    path = "/"

    @get("/messages", name="member_page:messages")
    async def messages(
        self, request: AnyRequest, principal: Principal, state: State, db_session: AsyncSession
    ) -> Template:
        assert principal.member_id is not None
        inbox = Inbox(db_session, principal.tenant_id, principal.member_id)
        notices = await inbox.newest(MESSAGES_SHOWN)
        await inbox.mark_read(None)
        local = local_time(await tenant_clock_of(state, principal.tenant_id))
        words = MEMBER_PAGE.words(request)
        return MEMBER_PAGE.render(
            request,
            "messages",
            user=principal,
            items=[(notice, say(notice.kind, notice.params, words, local)) for notice in notices],
            local=local,
            tab="home",
            unread=0,
        )

    @post("/text-size", name="member_page:text_size")
    async def text_size(self, request: AnyRequest, principal: Principal) -> Redirect:
        form = await request.form()
        size = form.get("size")
        back = form.get("back")
        # Only back to one of this page's own screens.
        to = back if isinstance(back, str) and back.startswith("/member/") and "//" not in back else "/member/"
        if size not in TEXT_SIZES:
            return MEMBER_PAGE.redirect(request, to, Message.error("try_again"))
        response = MEMBER_PAGE.redirect(request, to, Message.done("text_size_set"))
        set_page_cookie(
            request, response, key=TEXT_SIZE_COOKIE, value=str(size), max_age=TEXT_SIZE_SECONDS, path=MEMBER_PAGE.path
        )
        return response
