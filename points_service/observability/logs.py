"""Structured logs: structlog, rendered as one JSON object per line when the output is not a terminal
(what a log shipper reads) and as coloured columns when it is (a developer). Every line has an ISO
timestamp in UTC, its level and logger, and the id of the request it was written for.

The standard library's loggers (`logging.getLogger(__name__)` across the project, uvicorn's) go through
the same formatter, so their lines are structured too.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Any, TextIO

import msgspec
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# The id of the request being served; a ContextVar, so each request's task sees its own.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

ACCESS_LOGGER = "points_service.access"

_json = msgspec.json.Encoder()


def add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _render_json(event: EventDict, **_: Any) -> str:
    # msgspec rather than json: several times faster, and an access line is written per request.
    return _json.encode(event).decode()


def shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def log_formatter(as_json: bool) -> structlog.stdlib.ProcessorFormatter:
    """The one formatter of every line, structlog's or the standard library's."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_render_json) if as_json else structlog.dev.ConsoleRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


class _ServiceHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs, told apart from handlers someone else added."""


def configure_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Route structlog and the standard library to one handler on the root logger. Idempotent: an
    app built twice in one process (the tests) replaces its handler rather than adding a second."""
    stream = stream or sys.stderr
    structlog.configure(
        processors=[
            *shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(handler)
    handler = _ServiceHandler(stream)
    handler.setFormatter(log_formatter(as_json=not stream.isatty()))
    root.addHandler(handler)
    root.setLevel(level)
