"""The member's page at /member/ on the shared web layer (points_service.web): only members sign in here
(staff and clerks are told where their own page is), and the session cookies stay under /member.

Other packages add screens to this page (the merchants package serves the rewards tab): they build their
router with `member_screens`, so their screens have this page's session, headers and problem pages, and
render with `MEMBER_PAGE.with_words(...)` (this page plus their own words)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.di import Provide
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.errors import DomainError
from points_service.mobile import STATIC_DIRECTORY, TEMPLATE_DIRECTORY
from points_service.mobile.i18n import MEMBER_WORDS
from points_service.web import Catalogue, Message, Page

MEMBER_PAGE = Page(
    name="member",
    path="/member",
    catalogue=MEMBER_WORDS,
    allows=lambda principal: principal.role == "member" and principal.member_id is not None,
    access_cookie="rp_member_session",
    refresh_cookie="rp_member_refresh",
    language_cookie="rp_member_lang",
    template_directory=TEMPLATE_DIRECTORY,
    static_directory=STATIC_DIRECTORY,
    # A phone in the member's pocket: signed in for the day, not for good (a family often shares one).
    session_seconds=12 * 3600,
    wrong_door="not_a_member",
    static_max_age=300,
)


def with_words(languages: Mapping[str, Mapping[str, str]]) -> Page:
    """The member page speaking `languages` besides its own words: for screens another package adds."""
    merged = {lang: {**MEMBER_WORDS.languages[lang], **languages.get(lang, {})} for lang in MEMBER_WORDS.languages}
    return replace(MEMBER_PAGE, catalogue=Catalogue(merged))


def refusal(page: Page, request: Request[Any, Any, Any], code: object) -> Message:
    """What the member is told when a service refuses an action (`code`: the refusal's code): its own
    words, or the general ones, never the code itself."""
    return Message.error(code if isinstance(code, str) and code in page.words(request) else "try_again")


async def acted(
    page: Page,
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    back: str,
    action: Callable[[], Awaitable[Message]],
) -> Redirect:
    """Run one action and go back to `back`, which says how it went. The action runs in a savepoint, so a
    refused one writes nothing while the request's transaction still commits."""
    try:
        async with db_session.begin_nested():
            message = await action()
    except DomainError as error:
        message = refusal(page, request, error.code)
    return page.redirect(request, back, message)


def member_screens(
    page: Page, route_handlers: Sequence[ControllerRouterHandler], dependencies: Mapping[str, Provide]
) -> Router:
    """A router of more screens of the member page, beside the page's own (which carries sign-in and the
    static files): the same session dependency, headers, no-store and problem pages."""
    return Router(
        path=page.path,
        route_handlers=list(route_handlers),
        dependencies={"principal": Provide(page.user), **dependencies},
        exception_handlers=page.exception_handlers(),  # type: ignore[arg-type]
        response_headers=[
            ResponseHeader(name="Content-Security-Policy", value=page.content_security_policy),
            ResponseHeader(name="Referrer-Policy", value="same-origin"),
            ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
        ],
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
    )
