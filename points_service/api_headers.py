"""Two headers on every answer under /api/, errors and unknown paths included:

* `Cache-Control: no-store` unless the handler chose its own: answers carry personal data and tokens,
  which neither a shared cache nor the browser's history may keep.
* `X-Content-Type-Options: nosniff`: a browser must not guess that an answer is something to render.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from points_service.package_plugin import API_PREFIX

_NO_STORE = (b"cache-control", b"no-store")
_NOSNIFF = (b"x-content-type-options", b"nosniff")


def api_answer_headers(app: ASGIApp) -> ASGIApp:
    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {bytes(name).lower() for name, _ in headers}
                headers += [header for header in (_NO_STORE, _NOSNIFF) if header[0] not in present]
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        await app(scope, receive, sending)

    return with_headers
