"""The staff console at /admin/: sign in, the org tree with counts, leaderboards with a chart,
evaluations (create, run, results, drill-down, export, publish) and warnings (the latest daily run and
a check now); posts, wishes and reports are in admin/console/work.py.

Server-rendered, no build step. Every page calls the same services as the staff API with the signed-in
staff member's Principal, so subtree scoping and per-object checks are exactly the API's. CSRF is
checked by Litestar's CSRFMiddleware (configured by the app factory for every path outside /api); the
session lives in HttpOnly cookies (points_service.web.session).
"""

from __future__ import annotations

import math
import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from admin.console.i18n import DEFAULT_LANGUAGE, MESSAGES, supported
from admin.console.repository import ConsoleRecords
from admin.evaluations.controllers import XLSX
from admin.evaluations.exports import results_csv, results_xlsx
from admin.evaluations.metrics import METRICS
from admin.evaluations.service import DEFAULT_BANDS, EvaluationService
from admin.warnings.daily import DailyWarnings
from admin.warnings.service import WarningService
from points_service.auth.principal import Principal
from points_service.errors import DomainError, Forbidden, InvalidCredentials, NotFound, TooManyAttempts
from points_service.leaderboards.periods import parse_board
from points_service.leaderboards.service import LeaderboardService
from points_service.org.service import OrgService
from points_service.tenancy.service import tenant_clock
from points_service.web.session import PageSession, SignInRequired, auth_service

AnyRequest = Request[Any, Any, Any]
LANGUAGE_COOKIE = "rp_console_lang"
STAFF_SESSION = PageSession(
    "rp_console_session",
    "rp_console_refresh",
    "/admin",
    "/admin/login",
    8 * 3600,
    allows=lambda principal: principal.role in ("staff", "admin"),
)
TARGETS = ("all", "party_members", "in_service", "cadres")
GRADE_CLASSES = ("excellent", "qualified", "basically_qualified", "unqualified")


async def provide_staff(request: AnyRequest, state: State) -> Principal:
    return await STAFF_SESSION.principal(request, state)


# -- rendering --------------------------------------------------------------------------------------


def language(request: AnyRequest) -> tuple[str, bool]:
    asked = supported(request.query_params.get("lang"))
    if asked:
        return asked, True
    return supported(request.cookies.get(LANGUAGE_COOKIE)) or DEFAULT_LANGUAGE, False


def _finish(request: AnyRequest, response: Response[Any]) -> None:
    lang, chosen = language(request)
    if chosen:
        response.set_cookie(
            key=LANGUAGE_COOKIE, value=lang, max_age=365 * 86400, path="/admin", httponly=True, samesite="lax"
        )
    STAFF_SESSION.keep_renewed(request, response)


def render(request: AnyRequest, name: str, status: int = 200, **context: Any) -> Template:
    lang, _ = language(request)
    response = Template(
        template_name=f"console/{name}.html",
        context={
            "t": MESSAGES[lang],
            "lang": lang,
            "page_path": request.url.path,
            "error": None,
            "error_args": {},
            "metric_label": lambda metric: METRICS[metric].label if lang == "zh-CN" else metric,
            **context,
        },
        status_code=status,
    )
    _finish(request, response)
    return response


def go(request: AnyRequest, url: str) -> Redirect:
    response = Redirect(url, status_code=303)
    _finish(request, response)
    return response


def refused(request: AnyRequest, error: DomainError, principal: Principal | None) -> Template:
    code = error.code if error.code in MESSAGES[DEFAULT_LANGUAGE] else "invalid_input"
    return render(
        request, "problem", status=error.status_code, error=code, error_args={"detail": error.detail}, staff=principal
    )


def page_expired(request: AnyRequest, _: PermissionDeniedException) -> Template:
    return render(request, "problem", status=403, error="page_expired")


def bar_chart(rows: list[tuple[str, int]], width: int = 560, bar: int = 22) -> dict[str, Any]:
    """Bars for an inline SVG, drawn by the template: a label, a bar as long as the points."""
    top = max((points for _, points in rows), default=0) or 1
    label_width, gap = 120, 6
    span = width - label_width - 60
    bars = [
        {
            "y": index * (bar + gap),
            "label": label,
            "points": points,
            "length": max(2, round(span * max(points, 0) / top)),
        }
        for index, (label, points) in enumerate(rows)
    ]
    return {"width": width, "height": max(len(rows) * (bar + gap), bar), "bar": bar, "x": label_width, "bars": bars}


# -- sign-in ----------------------------------------------------------------------------------------


class ConsoleSignIn(Controller):
    path = "/"

    @get("/login", name="console:sign_in")
    async def form(self, request: AnyRequest, ended: str | None = None) -> Template:
        return render(request, "login", error="session_ended" if ended else None)

    @post("/login", name="console:sign_in_post")
    async def sign_in(self, request: AnyRequest, db_session: AsyncSession, state: State) -> Response[Any]:
        form = await request.form()
        username = str(form.get("username") or "").strip()[:64]
        password = str(form.get("password") or "")[:256]
        address = request.client.host if request.client else "unknown"
        auth = auth_service(db_session, state)
        status, error, error_args = 401, "invalid_credentials", {}
        if username and password:
            try:
                pair = await auth.login(username, password, address)
            except TooManyAttempts as refusal:
                status, error, error_args = 429, "too_many_attempts", {"minutes": math.ceil(refusal.retry_after / 60)}
            except InvalidCredentials:
                pass
            else:
                if pair.role in ("staff", "admin"):
                    response = go(request, "/admin/")
                    STAFF_SESSION.set(request, response, pair)
                    return response
                # Right password, wrong door: the tokens just issued are of no use here.
                await auth.logout(pair.refresh_token)
                status, error = 403, "not_staff"
        response = render(request, "login", status=status, error=error, error_args=error_args, username=username)
        STAFF_SESSION.clear(response)
        return response

    @post("/logout", name="console:sign_out")
    async def sign_out(self, request: AnyRequest, db_session: AsyncSession, state: State) -> Redirect:
        refresh = request.cookies.get(STAFF_SESSION.refresh_cookie)
        if refresh:
            await auth_service(db_session, state).logout(refresh)
        response = go(request, "/admin/login")
        STAFF_SESSION.clear(response)
        return response


# -- pages ------------------------------------------------------------------------------------------


class ConsolePages(Controller):
    path = "/"

    @get("/", name="console:org")
    async def org_tree(
        self, request: AnyRequest, staff: Principal, db_session: AsyncSession, unit: uuid.UUID | None = None
    ) -> Template:
        records = ConsoleRecords(db_session, staff)
        org = OrgService(db_session, staff)
        try:
            if unit is None:
                shown, children = None, await records.home_units()
            else:
                shown, children = await org.unit_with_children(unit)
        except NotFound as error:
            return refused(request, error, staff)
        counted = await records.counts([shown, *children] if shown else children)
        return render(
            request, "org", staff=staff, shown=counted[0] if shown else None, rows=counted[1 if shown else 0 :]
        )

    @get("/leaderboard", name="console:leaderboard")
    async def leaderboard(
        self,
        request: AnyRequest,
        staff: Principal,
        db_session: AsyncSession,
        state: State,
        period: str = "month",
        unit: uuid.UUID | None = None,
    ) -> Template:
        records = ConsoleRecords(db_session, staff)
        homes = await records.home_units()
        org = OrgService(db_session, staff)
        try:
            chosen = await org.unit_in_reach(unit) if unit else (homes[0] if homes else None)
            if chosen is None:
                raise NotFound("No org unit yet")
            clock = await tenant_clock(db_session, staff.tenant_id)
            board = parse_board(period if period in ("month", "year", "all") else "month", None, clock.today())
        except DomainError as error:
            return refused(request, error, staff)
        top, _, source = await LeaderboardService(db_session, state.redis, staff.tenant_id).top(
            board, chosen.id, chosen.path, 20, None
        )
        _, children = await org.unit_with_children(chosen.id)
        return render(
            request,
            "leaderboard",
            staff=staff,
            unit=chosen,
            units=[*homes, *children],
            period=board.period,
            board=board,
            standings=top,
            source=source,
            chart=bar_chart([(s.name, s.points) for s in top[:10]]),
        )

    @get("/warnings", name="console:warnings")
    async def warnings(
        self,
        request: AnyRequest,
        staff: Principal,
        db_session: AsyncSession,
        unit: uuid.UUID | None = None,
        inactive_days: int | None = None,
    ) -> Template:
        records = ConsoleRecords(db_session, staff)
        homes = await records.home_units()
        org = OrgService(db_session, staff)
        clock = await tenant_clock(db_session, staff.tenant_id)
        daily = DailyWarnings(db_session, staff.tenant_id)
        chosen = await daily.thresholds()
        inactive_days = max(1, min(inactive_days or chosen.inactive_days, 3650))
        try:
            unit_id = unit or (homes[0].id if homes else None)
            if unit_id is None:
                raise NotFound("No org unit yet")
            shown, checks = await WarningService(db_session, staff.tenant_id, org, clock).run(
                unit_id, inactive_days, chosen.attendance_below, chosen.duty_days
            )
            _, children = await org.unit_with_children(shown.id)
        except DomainError as error:
            return refused(request, error, staff)
        names = {str(child.id): child.name for child in children}
        return render(
            request,
            "warnings",
            staff=staff,
            unit=shown,
            checks=checks,
            stored=await daily.latest(shown, children),
            names=names,
            inactive_days=inactive_days,
            local=lambda moment: moment.astimezone(clock.zone).strftime("%Y-%m-%d %H:%M"),
        )


class ConsoleEvaluations(Controller):
    path = "/evaluations"

    @get("/", name="console:evaluations")
    async def listed(self, request: AnyRequest, staff: Principal, db_session: AsyncSession) -> Template:
        org = OrgService(db_session, staff)
        records = ConsoleRecords(db_session, staff)
        evaluations = await records.evaluations(await org.reach())
        clock = await tenant_clock(db_session, staff.tenant_id)
        today = clock.today()
        return render(
            request,
            "evaluations",
            staff=staff,
            evaluations=evaluations,
            units=await records.home_units(),
            metrics=list(METRICS),
            targets=TARGETS,
            defaults={"period_start": date(today.year, 1, 1).isoformat(), "period_end": today.isoformat()},
        )

    @post("/", name="console:create_evaluation")
    async def create(self, request: AnyRequest, staff: Principal, db_session: AsyncSession) -> Response[Any]:
        form = await request.form()
        try:
            metrics = [
                {"metric": name, "weight": float(str(form.get(f"weight_{name}") or "0"))}
                for name in METRICS
                if str(form.get(f"weight_{name}") or "").strip() not in ("", "0")
            ]
            if not metrics or any(not 0 < item["weight"] <= 1000 for item in metrics):
                raise ValueError("weights")
            fields = {
                "name": str(form.get("name") or "").strip()[:200] or "考评",
                "org_unit_id": uuid.UUID(str(form.get("org_unit_id"))),
                "target": str(form.get("target")) if form.get("target") in TARGETS else "all",
                "cadre_position": None,
                "period_start": date.fromisoformat(str(form.get("period_start"))),
                "period_end": date.fromisoformat(str(form.get("period_end"))),
                "metrics": metrics,
                "top_n": max(0, min(int(str(form.get("top_n") or "0")), 1_000_000)),
                "grade_bands": dict(DEFAULT_BANDS),
            }
        except ValueError:
            return refused(
                request, DomainError("metrics: at least one weight between 0 and 1000, dates as dates"), staff
            )
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        try:
            async with db_session.begin_nested():
                evaluation = await service.create(fields)
        except DomainError as error:
            return refused(request, error, staff)
        return go(request, f"/admin/evaluations/{evaluation.id}")

    @get("/{evaluation_id:uuid}", name="console:evaluation")
    async def results(
        self, request: AnyRequest, evaluation_id: uuid.UUID, staff: Principal, db_session: AsyncSession
    ) -> Template:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        try:
            evaluation = await service.get(evaluation_id)
            rows = (await service.results(evaluation_id))[1] if evaluation.status != "draft" else []
        except DomainError as error:
            return refused(request, error, staff)
        return render(request, "evaluation", staff=staff, evaluation=evaluation, rows=rows, grade_classes=GRADE_CLASSES)

    @post("/{evaluation_id:uuid}/run", name="console:run_evaluation")
    async def run(
        self, request: AnyRequest, evaluation_id: uuid.UUID, staff: Principal, db_session: AsyncSession
    ) -> Response[Any]:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        try:
            async with db_session.begin_nested():
                await service.run(evaluation_id)
        except DomainError as error:
            return refused(request, error, staff)
        return go(request, f"/admin/evaluations/{evaluation_id}")

    @post("/{evaluation_id:uuid}/publish", name="console:publish_evaluation")
    async def publish(
        self, request: AnyRequest, evaluation_id: uuid.UUID, staff: Principal, db_session: AsyncSession
    ) -> Response[Any]:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        try:
            if not staff.is_admin:
                raise Forbidden("Only a tenant admin publishes an evaluation")
            async with db_session.begin_nested():
                await service.publish(evaluation_id)
        except DomainError as error:
            return refused(request, error, staff)
        return go(request, f"/admin/evaluations/{evaluation_id}")

    @get("/{evaluation_id:uuid}/members/{member_id:uuid}", name="console:breakdown")
    async def breakdown(
        self,
        request: AnyRequest,
        evaluation_id: uuid.UUID,
        member_id: uuid.UUID,
        staff: Principal,
        db_session: AsyncSession,
    ) -> Template:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        try:
            evaluation = await service.get(evaluation_id)
            explained = await service.breakdown(evaluation_id, member_id)
        except DomainError as error:
            return refused(request, error, staff)
        return render(request, "breakdown", staff=staff, evaluation=evaluation, explained=explained)

    @get("/{evaluation_id:uuid}/export/{kind:str}", name="console:export")
    async def export(
        self, request: AnyRequest, evaluation_id: uuid.UUID, kind: str, staff: Principal, db_session: AsyncSession
    ) -> Response[Any]:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        try:
            if kind not in ("xlsx", "csv"):
                raise NotFound("Exports are xlsx or csv")
            evaluation, rows = await service.results(evaluation_id)
        except DomainError as error:
            return refused(request, error, staff)
        filename = f"evaluation-{evaluation.id}.{kind}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if kind == "csv":
            return Response(results_csv(evaluation, rows), media_type="text/csv; charset=utf-8", headers=headers)
        return Response(results_xlsx(evaluation, rows), media_type=XLSX, headers=headers)


CONSOLE_CONTROLLERS = [ConsoleSignIn, ConsolePages, ConsoleEvaluations]
CONSOLE_EXCEPTION_HANDLERS = {
    SignInRequired: STAFF_SESSION.redirect_to_sign_in,
    PermissionDeniedException: page_expired,
}
