"""Every cookie the pages set, and whether it is marked Secure: decided here once, for the page's own
cookies and for Litestar's CSRF cookie alike."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def secure_cookies(scope: Scope) -> bool:
    """Secure when the client spoke https, to the service or to a trusted proxy that says so
    (X-Forwarded-Proto from POINTS_TRUSTED_PROXIES, already in the scope's scheme), and always when
    POINTS_SECURE_COOKIES is on: for a TLS terminator the service cannot tell from a stranger."""
    if scope.get("scheme") == "https":
        return True
    settings = scope["litestar_app"].state.get("settings")
    return bool(settings is not None and settings.secure_cookies)


def set_page_cookie(
    request: Request[Any, Any, Any], response: Response[Any], *, key: str, value: str, max_age: int, path: str
) -> None:
    """A page's cookie: never readable by script, not sent along with another site's forms."""
    response.set_cookie(
        key=key,
        value=value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request.scope),
    )


def secure_csrf_cookie(app: ASGIApp, cookie_name: str) -> ASGIApp:
    """Marks Litestar's CSRF cookie Secure when `secure_cookies` says so. Its CSRFConfig.cookie_secure is
    one value for the whole app, while the scheme belongs to each request, so the cookie the middleware
    wrote is marked on its way out. Wraps the app's handler inside the proxy headers' middleware."""
    prefix = f"{cookie_name}=".encode()

    def marked(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
        name, value = header
        if name.lower() == b"set-cookie" and value.startswith(prefix) and b"; secure" not in value.lower():
            return name, value + b"; Secure"
        return header

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not secure_cookies(scope):
            await app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [marked(header) for header in message.get("headers", [])]
            await send(message)

        await app(scope, receive, send_marked)

    return handler
