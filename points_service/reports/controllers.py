"""Problem reports over HTTP."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter

from points_service.activities.schemas import RuleCode
from points_service.auth.guards import member_or_staff, require_staff
from points_service.idempotency.service import IdempotencyKey, IdempotentWrites
from points_service.ledger.service import LedgerService, Posted
from points_service.pagination import Cursor, Limit, decode_cursor, page
from points_service.reports.models import ProblemReport, ReportEvent
from points_service.reports.service import ReportService

Category = Literal["hazard", "dispute", "facility", "sanitation", "household_visit", "other"]
Status = Literal["submitted", "accepted", "resolved", "rejected"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]


class ReportCreate(msgspec.Struct):
    category: Category
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=r"\S")]
    description: Text
    member_id: uuid.UUID | None = None


class Accept(msgspec.Struct):
    """`rule_code`: the rule that pays the reporter for a useful report; absent, nobody is paid."""

    rule_code: RuleCode | None = None


class Escalate(msgspec.Struct):
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class Reject(msgspec.Struct):
    reason: Text


class Resolve(msgspec.Struct):
    resolution: Text
    rule_code: RuleCode | None = None
    # Who is credited with the resolution (a grid worker); absent: the reporter.
    member_id: uuid.UUID | None = None


def report_body(report: ProblemReport) -> dict[str, Any]:
    return {
        "id": report.id,
        "member_id": report.member_id,
        "category": report.category,
        "place": report.place,
        "description": report.description,
        "status": report.status,
        "reported_unit_id": report.reported_unit_id,
        "handling_unit_id": report.handling_unit_id,
        "created_at": report.created_at,
        "accepted_at": report.accepted_at,
        "resolved_at": report.resolved_at,
        "resolution": report.resolution,
        "resolved_by_member_id": report.resolved_by_member_id,
    }


def event_body(event: ReportEvent) -> dict[str, Any]:
    return {
        "action": event.action,
        "unit_id": event.unit_id,
        "note": event.note,
        "transaction_id": event.transaction_id,
        "at": event.created_at,
    }


def paid(posted: Posted | None) -> dict[str, Any]:
    return {"points": posted.points if posted else 0, "transaction_id": posted.transaction_id if posted else None}


class ReportController(Controller):
    path = "/reports"
    tags = ["problem reports"]

    @post("/", guards=[member_or_staff], summary="Report a problem (oneself, or for a member as proxy / staff)")
    async def file(self, data: ReportCreate, reports: ReportService) -> dict[str, Any]:
        report = await reports.file(data.member_id, data.category, data.place.strip(), data.description.strip())
        return report_body(report)

    @get("/", guards=[member_or_staff], summary="A member's own reports (newest first), or a staff subtree's (oldest)")
    async def list_reports(
        self, reports: ReportService, status: Status | None = None, limit: Limit = 50, cursor: Cursor = None
    ) -> dict[str, Any]:
        rows = await reports.listed(status, limit, decode_cursor(cursor))
        return page([report_body(r) for r in rows], limit, key=lambda item: (item["created_at"], item["id"]))

    @get("/stats", guards=[require_staff], summary="Collected, handled, in progress and disputes resolved, per period")
    async def stats(
        self,
        org_unit_id: uuid.UUID,
        reports: ReportService,
        first: Annotated[date, QueryParameter(name="from", description="First tenant-local day")],
        last: Annotated[date, QueryParameter(name="to", description="Last tenant-local day (inclusive)")],
    ) -> dict[str, Any]:
        stats = await reports.stats(org_unit_id, first, last)
        return {
            "org_unit_id": org_unit_id,
            "from": first,
            "to": last,
            "collected": stats.collected,
            "handled": stats.resolved,
            "in_progress": stats.in_progress,
            "rejected": stats.rejected,
            "escalated": stats.escalated,
            "disputes": stats.disputes,
            "disputes_resolved": stats.disputes_resolved,
            "dispute_resolution_rate": stats.dispute_resolution_rate,
            "by_category": stats.by_category,
        }

    @get("/{report_id:uuid}", guards=[member_or_staff], summary="One report and how it travelled")
    async def read(self, report_id: uuid.UUID, reports: ReportService) -> dict[str, Any]:
        report = await reports.visible(report_id)
        return {**report_body(report), "events": [event_body(e) for e in await reports.events(report_id)]}

    @post(
        "/{report_id:uuid}/accept",
        guards=[require_staff],
        summary="Accept; with a rule, the reporter is paid once (idem)",
    )
    async def accept(
        self,
        report_id: uuid.UUID,
        request: Request,
        reports: ReportService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        data: Accept | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        body = data or Accept()

        async def accept() -> dict[str, Any]:
            report, posted = await reports.accept(report_id, body.rule_code, ledger)
            return {**report_body(report), **paid(posted)}

        return await idempotent.run(idempotency_key, request.url.path, body, accept, status=200)

    @post(
        "/{report_id:uuid}/escalate",
        status_code=200,
        guards=[require_staff],
        summary="Hand the report to the parent unit (one level up)",
    )
    async def escalate(self, report_id: uuid.UUID, reports: ReportService, data: Escalate | None = None) -> Any:
        return report_body(await reports.escalate(report_id, data.note if data else None))

    @post("/{report_id:uuid}/reject", status_code=200, guards=[require_staff], summary="Reject, with a reason")
    async def reject(self, report_id: uuid.UUID, data: Reject, reports: ReportService) -> dict[str, Any]:
        return report_body(await reports.reject(report_id, data.reason))

    @post(
        "/{report_id:uuid}/resolve",
        guards=[require_staff],
        summary="Resolve; with a rule, the credited member is paid once (idem)",
    )
    async def resolve(
        self,
        report_id: uuid.UUID,
        data: Resolve,
        request: Request,
        reports: ReportService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        async def resolve() -> dict[str, Any]:
            report, posted = await reports.resolve(report_id, data.resolution, data.rule_code, data.member_id, ledger)
            return {**report_body(report), **paid(posted)}

        return await idempotent.run(idempotency_key, request.url.path, data, resolve, status=200)
