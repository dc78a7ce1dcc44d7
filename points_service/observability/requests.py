"""Per request: its id, its metrics and its access log line, in one ASGI middleware so that a request
pays for one clock pair and one wrapped `send`.

The id comes from the caller's `X-Request-ID` when it is a plausible id (1 to 128 printable ASCII
characters, no spaces), so a reverse proxy's id follows the request through; otherwise one is made.
Either way it is answered in `X-Request-ID` and bound to every log line written for the request.

The access line holds the method, the route's path template, the status, the duration and the id:
never the path asked for, the query string, headers, cookies or bodies, which can carry tokens,
passwords or names.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from points_service.observability.logs import REQUEST_ID, access_line_writer
from points_service.observability.metrics import REQUEST_SECONDS, REQUESTS

REQUEST_ID_HEADER = b"x-request-id"
_PLAUSIBLE_ID = re.compile(rb"[!-~]{1,128}")
# A request that matched no route (a 404 before any handler): one label for all of them, so a
# scanner's made-up paths cannot grow the metrics without bound.
UNMATCHED = "unmatched"

# Each (method, route, status) resolved once to its metric children: `labels()` takes a lock and
# builds a key on every call, this lookup does neither.
_Observers = tuple[Any, Any]
_observers: dict[tuple[str, str, int], _Observers] = {}


def _observers_for(method: str, route: str, status: int) -> _Observers:
    key = (method, route, status)
    found = _observers.get(key)
    if found is None:
        labels = (method, route, str(status))
        found = _observers[key] = (REQUESTS.labels(*labels), REQUEST_SECONDS.labels(*labels))
    return found


def _incoming_id(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value if _PLAUSIBLE_ID.fullmatch(value) else None
    return None


def observe_requests(app: ASGIApp) -> ASGIApp:
    access_line = access_line_writer()

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        raw_id = _incoming_id(scope) or b"%016x" % random.getrandbits(64)
        request_id = raw_id.decode("ascii")
        token = REQUEST_ID.set(request_id)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, raw_id)]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"]
            route = scope.get("path_template") or UNMATCHED
            counter, histogram = _observers_for(method, route, status)
            counter.inc()
            histogram.observe(seconds)
            access_line(method, route, status, round(seconds * 1000, 2))
            REQUEST_ID.reset(token)

    return observed
