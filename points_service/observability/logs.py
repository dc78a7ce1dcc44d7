"""Structured logs: structlog, rendered as one JSON object per line when standard error is not a
terminal (what a log shipper reads) and as coloured columns when it is (a developer). Every line has
an ISO timestamp in UTC, its level and logger, and the id of the request it was written for.

structlog's own loggers (the access line) write straight to standard error: the standard library's
records, handlers and locks cost more than the line itself, once per request. The standard library's
loggers (`logging.getLogger(__name__)` across the project, uvicorn's) go through a handler on the
root logger with the same processors, so their lines look the same.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# The id of the request being served; a ContextVar, so each request's task sees its own.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

ACCESS_LOGGER = "points_service.access"

# `str` for what JSON has no type for (an exception's arguments, a path): a log line never fails.
_json = msgspec.json.Encoder(enc_hook=str)


def add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def render_json(_: WrappedLogger, __: str, event: EventDict) -> str:
    # msgspec rather than json: several times faster, and an access line is written per request.
    return _json.encode(event).decode()


def _renderer(as_json: bool) -> Processor:
    return render_json if as_json else structlog.dev.ConsoleRenderer()


def _stamped() -> list[Processor]:
    return [add_request_id, structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=True)]


class StandardError:
    """structlog's output: looks standard error up at each line, so a redirection made after start-up
    (pytest's capture, say) is followed."""

    def msg(self, line: str) -> None:
        sys.stderr.write(line + "\n")

    info = warning = error = critical = debug = exception = msg


def standard_error(*_: Any) -> StandardError:
    return StandardError()


def log_formatter(as_json: bool) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of the standard library's records: the same fields and rendering as structlog's."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_stamped(), structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(as_json),
        ],
    )


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs, told apart from handlers someone else added. Like
    `StandardError`, it writes to whatever standard error is at the time of the line: a stream bound at
    start-up may be closed by then (pytest's capture, at exit while the embedded servers stop)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


# What `configure_logging` chose last, for `access_line_writer`.
_configured = {"as_json": True, "level": logging.INFO}


def configure_logging(level: int = logging.INFO) -> None:
    """structlog and the standard library, both to standard error. Idempotent: an app built twice in
    one process (the tests) replaces its root handler rather than adding a second."""
    as_json = not sys.stderr.isatty()
    _configured.update(as_json=as_json, level=level)
    structlog.configure(
        processors=[*_stamped(), structlog.processors.format_exc_info, _renderer(as_json)],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=standard_error,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(handler)
    handler = _ServiceHandler()
    handler.setFormatter(log_formatter(as_json))
    root.addHandler(handler)
    root.setLevel(level)


def service_logger(name: str) -> Any:
    """A structlog logger whose lines carry `logger` as the standard library's do."""
    return structlog.get_logger().bind(logger=name)


AccessLine = Callable[[str, str, int, float], None]


def access_line_writer() -> AccessLine:
    """Writes one request's access line (method, route, status, duration in ms). In JSON it is the
    line structlog would write (same fields, timestamp and request id), built here without structlog's
    bound logger and processor chain, which cost more than the rest of a fast read's observing; on a
    terminal it goes through structlog, coloured as every other line."""
    if _configured["level"] > logging.INFO:
        return lambda *_: None
    if not _configured["as_json"]:
        logger = service_logger(ACCESS_LOGGER)

        def through_structlog(method: str, route: str, status: int, duration_ms: float) -> None:
            logger.info("request", method=method, route=route, status=status, duration_ms=duration_ms)

        return through_structlog

    def as_json(method: str, route: str, status: int, duration_ms: float) -> None:
        line: dict[str, Any] = {
            "logger": ACCESS_LOGGER,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "event": "request",
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        line["level"] = "info"
        line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        # Standard error looked up at each line, as `StandardError` does.
        sys.stderr.write(_json.encode(line).decode() + "\n")

    return as_json
