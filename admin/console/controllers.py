"""The staff console at /admin/: sign in, the org tree with counts, leaderboards with a chart,
evaluations (create, run, results, drill-down, export, publish) and warnings (the latest daily run and
a check now); posts, wishes and reports are in admin/console/work.py.

Server-rendered, no build step. Every page calls the same services as the staff API with the signed-in
staff member's Principal, so subtree scoping and per-object checks are exactly the API's.
Sign-in, the session, CSRF, words, messages and problem pages are the shared web layer's
(points_service.web, through STAFF_PAGE in page.py); a refusal raised by a service becomes the
console's problem page, in the staff member's language.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from admin.console.page import STAFF_PAGE, staff_action
from admin.console.repository import ConsoleRecords
from admin.console.statistics import unit_statistics
from admin.evaluations import jobs as evaluation_jobs
from admin.evaluations.controllers import XLSX
from admin.evaluations.exports import result_columns, results_csv, results_xlsx
from admin.evaluations.metrics import METRICS, NORMALISATIONS
from admin.evaluations.service import DEFAULT_BANDS, EvaluationService
from admin.warnings.daily import DailyWarnings
from admin.warnings.service import WarningService
from points_service.auth.principal import Principal
from points_service.errors import Forbidden, NotFound
from points_service.jobs.worker import unless_unreachable
from points_service.leaderboards.periods import parse_board
from points_service.leaderboards.service import LeaderboardService
from points_service.org.editing import RosterEdits
from points_service.org.reach import Subtree
from points_service.org.service import OrgService
from points_service.rules.service import RuleService
from points_service.tenancy.service import tenant_clock
from points_service.web import Message, local_time

AnyRequest = Request[Any, Any, Any]
TARGETS = ("all", "party_members", "in_service", "cadres")


def grading_fields(form: Any, target: str) -> dict[str, Any]:
    """The form's normalisation, grade bands, cap on excellent (a percentage, blank for none) and, for
    cadres, the positions ticked; ValueError for anything out of range."""
    bands = {grade: float(str(form.get(f"band_{grade}") or DEFAULT_BANDS[grade])) for grade in DEFAULT_BANDS}
    if not all(0 <= value <= 100 for value in bands.values()):
        raise ValueError("bands")
    share_text = str(form.get("max_excellent_share") or "").strip()
    share = float(share_text) / 100 if share_text else None
    if share is not None and not 0 < share <= 1:
        raise ValueError("share")
    positions = [str(p).strip()[:50] for p in form.getall("cadre_positions", []) if str(p).strip()]
    normalisation = str(form.get("normalisation") or "share_of_best")
    return {
        "normalisation": normalisation if normalisation in NORMALISATIONS else "share_of_best",
        "grade_bands": bands,
        "max_excellent_share": share,
        "cadre_positions": positions[:50] if positions and target == "cadres" else None,
    }


GRADE_CLASSES = ("excellent", "qualified", "basically_qualified", "unqualified")


# -- rendering --------------------------------------------------------------------------------------


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


# -- pages ------------------------------------------------------------------------------------------


class ConsolePages(Controller):
    path = "/"

    @get("/", name="console:org")
    async def org_tree(
        self, request: AnyRequest, staff: Principal, db_session: AsyncSession, unit: uuid.UUID | None = None
    ) -> Template:
        records = ConsoleRecords(db_session, staff)
        org = OrgService(db_session, staff)
        if unit is None:
            shown, children = None, await records.home_units()
        else:
            shown, children = await org.unit_with_children(unit)
        counted = await records.counts([shown, *children] if shown else children)
        # Where the unit shown may go: any unit of the caller's reach but itself, what is below it and
        # its parent now (the move refuses the first two anyway).
        below_shown = Subtree(shown.path) if shown else None
        targets = (
            [
                (option, depth)
                for option, depth in await RosterEdits(db_session, org, staff.tenant_id).units_with_depth()
                if not below_shown.covers(option.path) and option.id != shown.parent_id
            ]
            if shown and below_shown
            else []
        )
        # The shown unit's subtree, or on the home page everything the staff member reaches.
        subtree = Subtree(shown.path) if shown else await org.reach()
        statistics = await unit_statistics(
            db_session, staff.tenant_id, subtree, await tenant_clock(db_session, staff.tenant_id)
        )
        return STAFF_PAGE.render(
            request,
            "org",
            shown=counted[0] if shown else None,
            rows=counted[1 if shown else 0 :],
            statistics=statistics,
            move_targets=targets,
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
        chosen = await org.unit_in_reach(unit) if unit else (homes[0] if homes else None)
        if chosen is None:
            raise NotFound("No org unit yet")
        clock = await tenant_clock(db_session, staff.tenant_id)
        board = parse_board(period if period in ("month", "year", "all") else "month", None, clock.today())
        top, _, source = await LeaderboardService(db_session, state.redis, staff.tenant_id).top(
            board, chosen.id, chosen.path, 20, None
        )
        _, children = await org.unit_with_children(chosen.id)
        return STAFF_PAGE.render(
            request,
            "leaderboard",
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
        unit_id = unit or (homes[0].id if homes else None)
        if unit_id is None:
            raise NotFound("No org unit yet")
        shown, checks = await WarningService(db_session, staff.tenant_id, org, clock).run(
            unit_id, inactive_days, chosen.attendance_below, chosen.duty_days
        )
        _, children = await org.unit_with_children(shown.id)
        names = {str(child.id): child.name for child in children}
        return STAFF_PAGE.render(
            request,
            "warnings",
            unit=shown,
            checks=checks,
            stored=await daily.latest(shown, children),
            names=names,
            inactive_days=inactive_days,
            local=local_time(clock),
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
        return STAFF_PAGE.render(
            request,
            "evaluations",
            evaluations=evaluations,
            units=await records.home_units(),
            metrics=list(METRICS),
            targets=TARGETS,
            normalisations=NORMALISATIONS,
            bands=DEFAULT_BANDS,
            positions=await records.cadre_positions(await org.reach()),
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
            target = str(form.get("target")) if form.get("target") in TARGETS else "all"
            fields = {
                "name": str(form.get("name") or "").strip()[:200] or "考评",
                "org_unit_id": uuid.UUID(str(form.get("org_unit_id"))),
                "target": target,
                "cadre_position": None,
                "period_start": date.fromisoformat(str(form.get("period_start"))),
                "period_end": date.fromisoformat(str(form.get("period_end"))),
                "metrics": metrics,
                "top_n": max(0, min(int(str(form.get("top_n") or "0")), 1_000_000)),
                **grading_fields(form, target),
            }
        except ValueError:
            return STAFF_PAGE.render(request, "problem", status=400, message="evaluation_form_invalid")
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        evaluation = await service.create(fields)
        return STAFF_PAGE.redirect(request, f"/admin/evaluations/{evaluation.id}", Message.done("evaluation_created"))

    @get("/{evaluation_id:uuid}", name="console:evaluation")
    async def results(
        self, request: AnyRequest, evaluation_id: uuid.UUID, staff: Principal, db_session: AsyncSession
    ) -> Template:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        evaluation = await service.get(evaluation_id)
        rows = (await service.results(evaluation_id))[1] if evaluation.status != "draft" else []
        return STAFF_PAGE.render(
            request,
            "evaluation",
            evaluation=evaluation,
            rows=rows,
            grade_classes=GRADE_CLASSES,
            columns=result_columns(evaluation),
            excluded=[item["metric"] for item in evaluation.excluded_metrics],
        )

    @post("/{evaluation_id:uuid}/run", name="console:run_evaluation")
    async def run(
        self,
        request: AnyRequest,
        evaluation_id: uuid.UUID,
        staff: Principal,
        db_session: AsyncSession,
        state: State,
    ) -> Response[Any]:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        # A large group is computed by the job queue's worker, and the page follows the job.
        if await evaluation_jobs.is_large(db_session, staff, evaluation_id):
            await request.form()  # the CSRF check has read it; nothing in it is needed
            async with unless_unreachable():
                key = await evaluation_jobs.hand_over(state.job_queue, staff, evaluation_id)
                return STAFF_PAGE.redirect(request, f"/admin/jobs/{key}", Message.done("evaluation_queued"))

        async def run(form: Any) -> None:
            await service.run(evaluation_id)

        return await staff_action(
            request, db_session, run, f"/admin/evaluations/{evaluation_id}", "evaluation_computed"
        )

    @post("/{evaluation_id:uuid}/publish", name="console:publish_evaluation")
    async def publish(
        self, request: AnyRequest, evaluation_id: uuid.UUID, staff: Principal, db_session: AsyncSession
    ) -> Response[Any]:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))

        async def publish(form: Any) -> None:
            if not staff.is_admin:
                raise Forbidden("Only a tenant admin publishes an evaluation")
            await service.publish(evaluation_id)

        return await staff_action(
            request, db_session, publish, f"/admin/evaluations/{evaluation_id}", "evaluation_published"
        )

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
        evaluation = await service.get(evaluation_id)
        explained = await service.breakdown(evaluation_id, member_id)
        # Records name their rule by code; the page says the rule's name.
        rule_names = {rule.code: rule.name for rule in await RuleService(db_session, staff.tenant_id).all()}
        return STAFF_PAGE.render(
            request, "breakdown", evaluation=evaluation, explained=explained, rule_names=rule_names
        )

    @get("/{evaluation_id:uuid}/export/{kind:str}", name="console:export")
    async def export(
        self, request: AnyRequest, evaluation_id: uuid.UUID, kind: str, staff: Principal, db_session: AsyncSession
    ) -> Response[Any]:
        service = EvaluationService(db_session, staff, OrgService(db_session, staff))
        if kind not in ("xlsx", "csv"):
            raise NotFound("Exports are xlsx or csv")
        evaluation, rows = await service.results(evaluation_id)
        filename = f"evaluation-{evaluation.id}.{kind}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if kind == "csv":
            return Response(results_csv(evaluation, rows), media_type="text/csv; charset=utf-8", headers=headers)
        return Response(results_xlsx(evaluation, rows), media_type=XLSX, headers=headers)


CONSOLE_CONTROLLERS = [ConsolePages, ConsoleEvaluations]
