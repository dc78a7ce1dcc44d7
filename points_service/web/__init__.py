"""API changes since the first commit (be4e09a), all additions: `Page.act` (one button: action in a
savepoint, back with its message or its refusal), `Page.refusal`, `Page.screens` (a router of more
screens of a page, without a second sign-in), `Page.with_words`, `Message.text`, `local_time`; the
cookie names became optional (default rp_<name>_session, rp_<name>_refresh, rp_<name>_lang) and follow
`template_directory` in the fields (pass them by keyword). The layer's own templates
(`TEMPLATE_DIRECTORY`, listed by the app factory): `web/page.html`, the frame a page's `base.html`
extends (blocks title, head, brand, nav, before_main, main), `web/message.html` and `web/sign_out.html`;
`render` passes `page` (the Page) to templates.

The one web layer of the three pages (member /member/, merchant /merchant/, staff console /admin/).

One technique: server-rendered Jinja templates with plain forms; a small same-origin ES module only where
a browser feature is needed (the camera for scanning), never inline script, a strict CSP. The session is
the API's own access and refresh tokens in HttpOnly SameSite cookies (session.PageSession); forms are
guarded by Litestar's CSRF middleware (csrf.page_csrf, configured once by the app factory).

A page is one `Page` object and its handlers::

    from points_service.web import Catalogue, Message, Page

    CLERK_PAGE = Page(
        name="merchant",                    # templates in <template_directory>/merchant/*.html
        path="/merchant",                   # router path; home is /merchant/, sign-in /merchant/login
        catalogue=Catalogue({"zh-CN": ZH_CN, "en": EN}),   # the page's words, over the layer's own
        allows=lambda principal: principal.role == "clerk",  # who may sign in here
        template_directory=TEMPLATE_DIRECTORY,
        # cookies rp_merchant_session, rp_merchant_refresh, rp_merchant_lang unless named here
        static_directory=STATIC_DIRECTORY,  # served at /merchant/static
        session_seconds=12 * 3600,
        wrong_door="not_a_clerk",           # said when a member's password is right but this is not their page
    )

    @get("/", name="merchant_page:counter")
    async def counter(request: Request, clerk: Principal) -> Template:
        return CLERK_PAGE.render(request, "counter", today=...)   # merchant/counter.html

    @post("/rewards")
    async def create(request: Request, clerk: Principal) -> Response:
        ...
        return CLERK_PAGE.redirect(request, "/merchant/rewards", Message.done("saved"))  # shown once there

    def merchant_page_routers() -> list[Router]:
        # sign-in/out routes, exception handlers, security headers, no-store, static files included
        return CLERK_PAGE.routers([counter, create], dependencies={"clerk": Provide(CLERK_PAGE.user)})

What the layer gives a page:

* Sign-in and sign-out: GET/POST `<path>/login`, POST `<path>/logout` (`Page.sign_in_handlers`, added by
  `Page.routers`). Renders `<name>/login.html` with `username`; a signed-in user is sent home.
* The session: `Page.user` is the dependency provider of the signed-in `Principal` (renewing an expired
  access token with the refresh cookie); without one the page redirects to `<path>/login`.
* Rendering: `Page.render(request, template, status=, message=, page_path=, user=, **context)`. The
  template gets `t` (words), `lang`, `page_path` (where the language link returns), `user` (the signed-in
  Principal, also when not passed), `message` (a `Message`: `.key`, `.args`, `.kind` "done"/"error"),
  `error`/`error_args` (the message when it is a refusal) and Litestar's `csrf_token()`. It sets the
  language cookie when `?lang=` chose one and the renewed session cookies.
* A message after an action: `Page.redirect(request, url, Message.done("saved"))` carries it in a
  one-minute cookie to the next render, which shows it once. Every key must be in the catalogue; an unknown
  key is logged and shown as `try_again`, never as a raw code.
* One button: `await Page.act(request, db_session, back, action)` runs `action` (returning the `Message`
  to show) in a savepoint and redirects to `back` with that message, or with `Page.refusal(request, error)`
  when a service refused: the refusal's words, never its code.
* More screens from another package: `Page.screens(handlers, dependencies)` is a router with the page's
  headers and problem pages but no sign-in routes; `Page.with_words(languages)` is the page also speaking
  that package's words.
* Problems: `Page.problem(request, domain_error)` renders `<name>/problem.html` with the refusal's status and
  words (its code's words if the catalogue has them, else by status). `Page.routers` installs handlers so a
  DomainError, an expired CSRF token, a Litestar HTTP error or a crash is a readable page, never JSON or a
  traceback.
* Templates: a page's `base.html` extends `web/page.html` (document, language link, nav for a signed-in
  user) and includes `web/message.html` where the message goes and `web/sign_out.html` in its nav.
* Cookies: `set_page_cookie(request, response, key=, value=, max_age=, path=)` for any cookie a screen
  keeps (HttpOnly, SameSite=Lax, Secure as `cookies.secure_cookies` decides for every cookie, the CSRF
  cookie too: over https, or always with POINTS_SECURE_COOKIES=on).
* Times: `local_time(clock)` gives templates a function showing a moment in the tenant's zone.
* Scanning a QR code with the camera: every page also serves the layer's static files at
  `<path>/static/web/`. A template loads `<path>/static/web/scanner.js` as a module and marks a
  `data-scanner` box (button, video, alert) with the id of the input to fill; the code read is put there
  and its form sent. It reads with the browser's BarcodeDetector, else with the vendored jsQR.
* Words: one `Catalogue` per page over `i18n.LAYER_WORDS`; `tests/points_service/test_web_layer.py` checks
  that every page's languages have the same keys and that every `t.key` its templates use exists.
"""

from points_service.web.cookies import set_page_cookie
from points_service.web.i18n import Catalogue
from points_service.web.message import Message
from points_service.web.page import TEMPLATE_DIRECTORY, Page, local_time
from points_service.web.session import PageSession, SignInRequired, auth_service

__all__ = [
    "TEMPLATE_DIRECTORY",
    "Catalogue",
    "Message",
    "Page",
    "PageSession",
    "SignInRequired",
    "auth_service",
    "local_time",
    "set_page_cookie",
]
