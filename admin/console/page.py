"""The staff console at /admin/ on the shared web layer (points_service.web): staff and tenant admins sign
in here, and the session cookies stay under /admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Request
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from admin.console import STATIC_DIRECTORY, TEMPLATE_DIRECTORY
from admin.console.i18n import CATALOGUE
from admin.evaluations.metrics import METRICS
from points_service.web import Message, Page


def console_context(lang: str) -> Mapping[str, Any]:
    # Metrics carry their Chinese label; in English the metric's own name reads well enough.
    label: Callable[[str], str] = (lambda metric: METRICS[metric].label) if lang == "zh-CN" else str
    return {"metric_label": label}


STAFF_PAGE = Page(
    name="console",
    path="/admin",
    catalogue=CATALOGUE,
    allows=lambda principal: principal.role in ("staff", "admin"),
    template_directory=TEMPLATE_DIRECTORY,
    static_directory=STATIC_DIRECTORY,
    # An office day.
    session_seconds=8 * 3600,
    wrong_door="not_staff",
    context=console_context,
)


AnyRequest = Request[Any, Any, Any]
CONSOLE_HOME = STAFF_PAGE.home


def back_to(form: Any, default: str) -> str:
    """Where a form returns to: the list it was sent from (filters kept), never another site."""
    back = str(form.get("back") or "")
    # Another console page may send it too (the approvals queue acts on posts, wishes and reports).
    inside = back.startswith((default, CONSOLE_HOME))
    return back if inside and not back.startswith("//") and "\\" not in back else default


async def staff_action(
    request: AnyRequest,
    db_session: AsyncSession,
    action: Callable[[Any], Awaitable[None]],
    default_back: str,
    done: str,
) -> Redirect:
    """One staff button: the form, the action (STAFF_PAGE.act: a refusal writes nothing), then back to
    the page the form was sent from, saying `done` or why it was refused."""
    form = await request.form()

    async def run() -> Message:
        await action(form)
        return Message.done(done)

    return await STAFF_PAGE.act(request, db_session, back_to(form, default_back), run)
