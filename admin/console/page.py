"""The staff console at /admin/ on the shared web layer (points_service.web): staff and tenant admins sign
in here, and the session cookies stay under /admin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from admin.console import STATIC_DIRECTORY, TEMPLATE_DIRECTORY
from admin.console.i18n import CATALOGUE
from admin.evaluations.metrics import METRICS
from points_service.web import Page


def console_context(lang: str) -> Mapping[str, Any]:
    # Metrics carry their Chinese label; in English the metric's own name reads well enough.
    label: Callable[[str], str] = (lambda metric: METRICS[metric].label) if lang == "zh-CN" else str
    return {"metric_label": label}


STAFF_PAGE = Page(
    name="console",
    path="/admin",
    catalogue=CATALOGUE,
    allows=lambda principal: principal.role in ("staff", "admin"),
    access_cookie="rp_console_session",
    refresh_cookie="rp_console_refresh",
    language_cookie="rp_console_lang",
    template_directory=TEMPLATE_DIRECTORY,
    static_directory=STATIC_DIRECTORY,
    # An office day.
    session_seconds=8 * 3600,
    wrong_door="not_staff",
    context=console_context,
)
