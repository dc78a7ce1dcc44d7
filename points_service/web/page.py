"""A page of the web layer (see points_service/web/__init__.py for how a page uses it); the message it
shows after an action is `message.Message`."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader, ResponseHeader, State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.errors import (
    RETRY_AFTER_SECONDS,
    AccountDisabled,
    DomainError,
    InvalidCredentials,
    InvalidInput,
    TooManyAttempts,
    Unauthenticated,
    WrongPassword,
    database_unreachable,
)
from points_service.tenancy.periods import TenantClock
from points_service.web.cookies import set_page_cookie
from points_service.web.i18n import Catalogue
from points_service.web.message import MESSAGE_COOKIE, MESSAGE_COOKIE_SECONDS, Message
from points_service.web.session import PageSession, PasswordChangeFirst, SignInRequired, auth_service

AnyRequest = Request[Any, Any, Any]
logger = logging.getLogger(__name__)

# Scripts, styles and images only from this origin, never inline; no page can be framed (clickjacking a
# "confirm" button), and forms post only back to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The layer's own templates: web/page.html (the frame a page's base.html extends), web/message.html,
# web/sign_out.html. The app factory lists this folder beside the pages' own.
TEMPLATE_DIRECTORY = Path(__file__).parent / "templates"
# The layer's own static files, under web/: every page serves them beside its own, at
# `<path>/static/web/` (the QR scanner and the decoder it ships), so a page's script imports them
# from its own origin and path.
STATIC_DIRECTORY = Path(__file__).parent / "static"
LANGUAGE_COOKIE_SECONDS = 365 * 86400
# What a refusal says when its own code has no words in the page's catalogue, by HTTP status.
STATUS_WORDS = {
    400: "invalid_input",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    422: "invalid_input",
}


def _no_nul_in_path(request: AnyRequest) -> None:
    # No file name holds a NUL, and the file system refuses to look one up (a ValueError, not a miss).
    if "\x00" in request.scope["path"]:
        raise NotFoundException()


def local_time(clock: TenantClock) -> Callable[..., str]:
    """A template's way to show a moment in the tenant's zone (blank for none)."""
    zone = clock.zone

    def shown(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        return moment.astimezone(zone).strftime(pattern) if moment else ""

    return shown


@dataclass(frozen=True)
class Page:
    """One web page of the service: its place, who may sign in, its cookies, words, templates and files.

    Templates live in `<template_directory>/<name>/`; the layer renders `<name>/login.html` (sign-in) and
    `<name>/problem.html` (a refusal) itself, so every page has both.
    """

    name: str
    path: str
    catalogue: Catalogue
    allows: Callable[[Principal], bool]
    template_directory: Path
    static_directory: Path | None = None
    # Cookie names; by default rp_<name>_session, rp_<name>_refresh and rp_<name>_lang.
    access_cookie: str = ""
    refresh_cookie: str = ""
    language_cookie: str = ""
    # How long the browser keeps the refresh cookie (a counter shift, an office day).
    session_seconds: int = 12 * 3600
    # Said when the password is right but the account is not one this page serves.
    wrong_door: str = "forbidden"
    content_security_policy: str = CONTENT_SECURITY_POLICY
    static_max_age: int = 3600
    # Template values every render of this page gets, by language (e.g. how the console names a metric).
    context: Callable[[str], Mapping[str, Any]] | None = None
    session: PageSession = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for cookie, default in (
            ("access_cookie", f"rp_{self.name}_session"),
            ("refresh_cookie", f"rp_{self.name}_refresh"),
            ("language_cookie", f"rp_{self.name}_lang"),
        ):
            if not getattr(self, cookie):
                object.__setattr__(self, cookie, default)
        session = PageSession(
            self.access_cookie,
            self.refresh_cookie,
            self.path,
            self.sign_in_path,
            self.session_seconds,
            self.allows,
        )
        object.__setattr__(self, "session", session)

    @property
    def home(self) -> str:
        return f"{self.path}/"

    @property
    def sign_in_path(self) -> str:
        return f"{self.path}/login"

    @property
    def _user_key(self) -> str:
        return f"{self.name}:user"

    # -- the session --------------------------------------------------------------------------------

    async def user(self, request: AnyRequest, state: State) -> Principal:
        """Dependency provider of the signed-in user; without a session the page redirects to sign-in,
        and an account that must change its password first is sent to that form."""
        principal = await self.session.principal(request, state)
        request.state[self._user_key] = principal
        if principal.password_change_required:
            raise PasswordChangeFirst()
        return principal

    @property
    def password_path(self) -> str:
        return f"{self.path}/password"

    def with_words(self, languages: Mapping[str, Mapping[str, str]]) -> Page:
        """This page also speaking `languages` (per language, words over the page's own): for screens
        another package adds to the page with words of its own."""
        merged = {lang: {**words, **languages.get(lang, {})} for lang, words in self.catalogue.languages.items()}
        return replace(self, catalogue=Catalogue(merged, self.catalogue.default))

    # -- language -----------------------------------------------------------------------------------

    def language(self, request: AnyRequest) -> tuple[str, bool]:
        """The page's language and whether the user just chose it (`?lang=`): zh-CN unless asked otherwise."""
        asked = self.catalogue.supported(request.query_params.get("lang"))
        if asked:
            return asked, True
        return self.catalogue.supported(request.cookies.get(self.language_cookie)) or self.catalogue.default, False

    def words(self, request: AnyRequest) -> Mapping[str, str]:
        return self.catalogue.words(self.language(request)[0])

    # -- answers ------------------------------------------------------------------------------------

    def finish(self, request: AnyRequest, response: Response[Any]) -> None:
        """Cookies every answer of the page carries: a language just chosen, a session just renewed."""
        lang, chosen = self.language(request)
        if chosen:
            set_page_cookie(
                request, response, key=self.language_cookie, value=lang, max_age=LANGUAGE_COOKIE_SECONDS, path=self.path
            )
        self.session.keep_renewed(request, response)

    def render(
        self,
        request: AnyRequest,
        template: str,
        *,
        status: int = 200,
        message: Message | str | None = None,
        page_path: str | None = None,
        user: Principal | None = None,
        **context: Any,
    ) -> Template:
        """`<name>/<template>.html` in the user's language. The template gets `page`, `t` (the words), `lang`,
        `page_path` (where the language switch returns), `user`, `message` and, for a refusal, `error` and
        `error_args`; `csrf_token()` is Litestar's. A message left by the previous redirect is shown once."""
        lang, _ = self.language(request)
        words = self.catalogue.words(lang)
        flashed = Message.from_cookie(request.cookies.get(MESSAGE_COOKIE))
        shown = Message.error(message) if isinstance(message, str) else message
        if shown is not None and shown.key not in words:
            logger.error("page %s has no words for message %r", self.name, shown.key)
            shown = Message.error("try_again")
        if shown is None and flashed is not None and flashed.key in words:
            shown = flashed
        if page_path is None:
            # A form's answer switches language on the page it came from, never on a POST-only path.
            page_path = request.url.path if request.method == "GET" else self.home
        response = Template(
            # "web/password" is the layer's own template, drawn in this page's frame.
            template_name=f"{template}.html" if "/" in template else f"{self.name}/{template}.html",
            context={
                "page": self,
                "t": words,
                "lang": lang,
                "page_path": page_path,
                "user": user or request.state.get(self._user_key),
                "message": shown,
                "error": shown.key if shown and shown.kind == "error" else None,
                "error_args": dict(shown.args) if shown and shown.kind == "error" else {},
                **(self.context(lang) if self.context else {}),
                **context,
            },
            status_code=status,
        )
        if flashed is not None:
            response.delete_cookie(key=MESSAGE_COOKIE, path=self.path)
        self.finish(request, response)
        return response

    def redirect(self, request: AnyRequest, url: str, message: Message | None = None) -> Redirect:
        """After an action: see-other to `url`, which shows `message` once."""
        response = Redirect(url, status_code=303)
        if message is not None:
            set_page_cookie(
                request,
                response,
                key=MESSAGE_COOKIE,
                value=message.to_cookie(),
                max_age=MESSAGE_COOKIE_SECONDS,
                path=self.path,
            )
        self.finish(request, response)
        return response

    def refusal(self, request: AnyRequest, error: DomainError) -> Message:
        """What the user is told when a service refuses: the words for the refusal's code if the page has
        them, else the page's words for its HTTP status; never the code itself."""
        key = error.code if error.code in self.words(request) else STATUS_WORDS.get(error.status_code, "try_again")
        args: dict[str, str | int] = {"detail": error.detail}
        if isinstance(error, TooManyAttempts):
            args["minutes"] = math.ceil(error.retry_after / 60)
        return Message(key, args)

    def problem(self, request: AnyRequest, error: DomainError, status: int | None = None) -> Template:
        """A refusal as a readable page in the user's language, with the refusal's HTTP status."""
        return self.render(request, "problem", status=status or error.status_code, message=self.refusal(request, error))

    async def act(
        self, request: AnyRequest, db_session: AsyncSession, back: str, action: Callable[[], Awaitable[Message]]
    ) -> Redirect:
        """One button of a form: run `action` and go back to `back`, which shows the message the action
        returns, or why it was refused. The action runs in a savepoint, so a refused one writes nothing."""
        try:
            async with db_session.begin_nested():
                message = await action()
        except DomainError as error:
            message = self.refusal(request, error)
        return self.redirect(request, back, message)

    # -- sign-in ------------------------------------------------------------------------------------

    def sign_in_handlers(self) -> list[HTTPRouteHandler]:
        """GET and POST `<path>/login`, POST `<path>/logout`: the one sign-in of every page."""
        page = self

        @get("/login", name=f"{page.name}_page:sign_in")
        async def sign_in_form(request: AnyRequest, state: State, ended: str | None = None) -> Response[Any]:
            access = request.cookies.get(page.access_cookie)
            if access:
                try:
                    page.session.principal_of(await state.account_states.principal_of(state.access_tokens, access))
                    return page.redirect(request, page.home)
                except (Unauthenticated, SignInRequired):
                    pass
            return page.render(request, "login", message="session_ended" if ended else None)

        @post("/login", name=f"{page.name}_page:sign_in_post")
        async def sign_in(request: AnyRequest, db_session: AsyncSession, state: State) -> Response[Any]:
            form = await request.form()
            username = str(form.get("username") or "").strip()[:64]
            password = str(form.get("password") or "")[:256]
            address = request.client.host if request.client else "unknown"
            auth = auth_service(db_session, state)
            status, message = 401, Message.error("invalid_credentials")
            if username and password:
                try:
                    pair = await auth.login(username, password, address)
                except TooManyAttempts as refusal:
                    minutes = math.ceil(refusal.retry_after / 60)
                    status, message = 429, Message.error("too_many_attempts", minutes=minutes)
                except InvalidCredentials:
                    pass
                except AccountDisabled:
                    status, message = 403, Message.error("account_disabled")
                else:
                    if page.allows(state.access_tokens.decode(pair.access_token)):
                        home = page.password_path if pair.password_change_required else page.home
                        response = page.redirect(request, home)
                        page.session.set(request, response, pair)
                        return response
                    # Right password, wrong door: the tokens just issued are of no use here.
                    await auth.logout(pair.refresh_token)
                    status, message = 403, Message.error(page.wrong_door)
            response = page.render(request, "login", status=status, message=message, username=username)
            page.session.clear(response)
            return response

        @post("/logout", name=f"{page.name}_page:sign_out")
        async def sign_out(request: AnyRequest, db_session: AsyncSession, state: State) -> Redirect:
            refresh = request.cookies.get(page.refresh_cookie)
            if refresh:
                await auth_service(db_session, state).logout(refresh)
            response = page.redirect(request, page.sign_in_path, Message.done("signed_out"))
            page.session.clear(response)
            return response

        @get("/password", name=f"{page.name}_page:password")
        async def password_form(request: AnyRequest, state: State) -> Response[Any]:
            user = await page.session.principal(request, state)
            return page.render(
                request, "web/password", user=user, forced=user.password_change_required, page_path=page.password_path
            )

        @post("/password", name=f"{page.name}_page:password_post")
        async def change_password(request: AnyRequest, db_session: AsyncSession, state: State) -> Response[Any]:
            user = await page.session.principal(request, state)
            form = await request.form()
            current = str(form.get("current_password") or "")[:256]
            new = str(form.get("new_password") or "")[:1024]
            message: Message
            if new != str(form.get("new_password_again") or "")[:1024]:
                message = Message.error("password_mismatch")
            else:
                try:
                    pair = await auth_service(db_session, state).change_password(user, current, new)
                except WrongPassword:
                    message = Message.error("wrong_password")
                except InvalidInput:
                    message = Message.error("password_not_allowed")
                else:
                    state.account_states.forget(user.account_id)
                    response = page.redirect(request, page.home, Message.done("password_changed"))
                    page.session.set(request, response, pair)
                    return response
            return page.render(
                request,
                "web/password",
                status=400,
                message=message,
                user=user,
                forced=user.password_change_required,
                page_path=page.password_path,
            )

        return [sign_in_form, sign_in, sign_out, password_form, change_password]

    # -- problems -----------------------------------------------------------------------------------

    def _page_expired(self, request: AnyRequest, _: PermissionDeniedException) -> Template:
        # Litestar's CSRF check refuses a form posted without its token (or with a stale one) this way.
        return self.render(request, "problem", status=403, message="page_expired")

    def _to_password_form(self, request: AnyRequest, _: PasswordChangeFirst) -> Response[Any]:
        return self.redirect(request, self.password_path)

    def _refused(self, request: AnyRequest, error: DomainError) -> Template:
        return self.problem(request, error)

    def _http_problem(self, request: AnyRequest, error: HTTPException) -> Template:
        status = error.status_code
        key = STATUS_WORDS.get(status, "try_again")
        if status >= 500:
            logger.error("page %s answered %s: %s", self.name, status, error.detail)
        return self.render(request, "problem", status=status, message=key)

    def _failed(self, request: AnyRequest, error: Exception) -> Template:
        if database_unreachable(error):
            # PostgreSQL restarting is an outage the pools outlive, not a bug: no traceback, a 503.
            logger.warning("page %s: database unavailable (%s)", self.name, type(error).__name__)
            page = self.render(request, "problem", status=503, message="try_again")
            page.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return page
        logger.exception("page %s failed", self.name, exc_info=error)
        return self.render(request, "problem", status=500, message="try_again")

    def exception_handlers(self) -> dict[type[Exception], Callable[[AnyRequest, Any], Response[Any]]]:
        """Never JSON or a traceback on a page: sign-in, an expired form, a refusal, anything else."""
        return {
            SignInRequired: self.session.redirect_to_sign_in,
            PasswordChangeFirst: self._to_password_form,
            PermissionDeniedException: self._page_expired,
            DomainError: self._refused,
            HTTPException: self._http_problem,
            Exception: self._failed,
        }

    # -- routes -------------------------------------------------------------------------------------

    def screens(
        self, route_handlers: Sequence[ControllerRouterHandler], dependencies: Mapping[str, Provide] | None = None
    ) -> Router:
        """A router of the page's screens at `path`: security headers, no caching of what a signed-in user
        sees, problem pages. Another package adds screens to a page this way (without a second sign-in)."""
        return Router(
            path=self.path,
            route_handlers=list(route_handlers),
            dependencies=dict(dependencies or {}),
            exception_handlers=self.exception_handlers(),  # type: ignore[arg-type]
            response_headers=[
                ResponseHeader(name="Content-Security-Policy", value=self.content_security_policy),
                ResponseHeader(name="Referrer-Policy", value="same-origin"),
                ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
            ],
            cache_control=CacheControlHeader(no_store=True),
            include_in_schema=False,
        )

    def routers(
        self,
        route_handlers: Sequence[ControllerRouterHandler],
        dependencies: Mapping[str, Provide] | None = None,
    ) -> list[Router]:
        """The page: its screens with sign-in and sign-out, and its static files at `<path>/static` (the
        layer's own under `<path>/static/web/`)."""
        own = [] if self.static_directory is None else [self.static_directory]
        return [
            self.screens([*self.sign_in_handlers(), *route_handlers], dependencies),
            create_static_files_router(
                path=f"{self.path}/static",
                directories=[*own, STATIC_DIRECTORY],
                name=f"{self.name}_static",
                cache_control=CacheControlHeader(max_age=self.static_max_age),
                before_request=_no_nul_in_path,
                include_in_schema=False,
            ),
        ]
