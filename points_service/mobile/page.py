"""The member's page at /member/ on the shared web layer (points_service.web): only members sign in here
(staff and clerks are told where their own page is), and its cookies (rp_member_session, rp_member_refresh,
rp_member_lang) stay under /member.

Other packages add screens to this page (the merchants package serves the rewards tab) with
`MEMBER_PAGE.with_words(...).screens(...)`: their screens get this page's session, headers, problem pages
and tab bar, and speak this page's words with their own on top."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from points_service.mobile import STATIC_DIRECTORY, TEMPLATE_DIRECTORY
from points_service.mobile.i18n import MEMBER_WORDS
from points_service.web import Message, Page

MEMBER_PAGE = Page(
    name="member",
    path="/member",
    catalogue=MEMBER_WORDS,
    allows=lambda principal: principal.role == "member" and principal.member_id is not None,
    template_directory=TEMPLATE_DIRECTORY,
    static_directory=STATIC_DIRECTORY,
    # A phone in the member's pocket: signed in for the day, not for good (a family often shares one).
    session_seconds=12 * 3600,
    wrong_door="not_a_member",
    static_max_age=300,
)


def stored_refusal(page: Page, request: Request[Any, Any, Any], answer: Response[Any]) -> Message:
    """The words for a refusal that came back as an answer instead of an exception (a write guarded by an
    Idempotency-Key records its refusal and replays it): by the answer's code, never the code itself."""
    code = answer.content.get("code") if isinstance(answer.content, dict) else None
    return Message.error(code if isinstance(code, str) and code in page.words(request) else "try_again")
