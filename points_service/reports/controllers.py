"""Problem reports over HTTP."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter

from points_service.auth.guards import member_or_staff, require_staff
from points_service.auth.principal import Principal
from points_service.errors import InvalidInput
from points_service.idempotency.service import IdempotencyKey, IdempotentWrites
from points_service.ledger.service import LedgerService
from points_service.pagination import Cursor, Limit, decode_cursor, next_page
from points_service.reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, PhotoStore
from points_service.reports.schemas import (
    Accept,
    Escalate,
    Reject,
    Report,
    ReportCreate,
    ReportPage,
    ReportPaid,
    ReportPhotos,
    ReportStats,
    ReportWithEvents,
    Resolve,
    Status,
    event_answer,
    report_answer,
    report_fields,
    report_paid,
)
from points_service.reports.service import ReportService

# Three photos at their limit and the multipart framing around them.
PHOTOS_BODY_MOST = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024


async def _some_part(request: Request) -> None:
    # Litestar reads a multipart form without a single part into a list it then indexes (a 500).
    if request.content_type[0] == RequestEncodingType.MULTI_PART and not await request.form():
        raise InvalidInput("data", "send at least one photo")


class ReportController(Controller):
    path = "/reports"
    tags = ["problem reports"]

    @post("/", guards=[member_or_staff], summary="Report a problem (oneself, or for a member as proxy / staff)")
    async def file(self, data: ReportCreate, reports: ReportService) -> Report:
        report = await reports.file(data.member_id, data.category, data.place.strip(), data.description.strip())
        return report_answer(report)

    @get("/", guards=[member_or_staff], summary="A member's own reports (newest first), or a staff subtree's (oldest)")
    async def list_reports(
        self, reports: ReportService, status: Status | None = None, limit: Limit = 50, cursor: Cursor = None
    ) -> ReportPage:
        rows = await reports.listed(status, limit, decode_cursor(cursor))
        items = [report_answer(r) for r in rows]
        return ReportPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))

    @get("/stats", guards=[require_staff], summary="Collected, handled, in progress and disputes resolved, per period")
    async def stats(
        self,
        org_unit_id: uuid.UUID,
        reports: ReportService,
        first: Annotated[date, QueryParameter(name="from", description="First tenant-local day")],
        last: Annotated[date, QueryParameter(name="to", description="Last tenant-local day (inclusive)")],
    ) -> ReportStats:
        stats = await reports.stats(org_unit_id, first, last)
        return ReportStats(
            org_unit_id=org_unit_id,
            first_day=first,
            last_day=last,
            collected=stats.collected,
            handled=stats.resolved,
            in_progress=stats.in_progress,
            rejected=stats.rejected,
            escalated=stats.escalated,
            disputes=stats.disputes,
            disputes_resolved=stats.disputes_resolved,
            dispute_resolution_rate=stats.dispute_resolution_rate,
            by_category=stats.by_category,
        )

    @get("/{report_id:uuid}", guards=[member_or_staff], summary="One report and how it travelled")
    async def read(
        self, report_id: uuid.UUID, reports: ReportService, principal: Principal, state: State
    ) -> ReportWithEvents:
        report = await reports.visible(report_id)
        events = [event_answer(e) for e in await reports.events(report_id)]
        photos = await PhotoStore(state.settings.report_photos).names(principal.tenant_id, report_id)
        return ReportWithEvents(**report_fields(report), events=events, photos=photos)

    @get(
        "/{report_id:uuid}/photos/{name:str}",
        guards=[member_or_staff],
        summary="One of a report's photos (a JPEG, PNG or WebP image), for those who may see the report",
    )
    async def photo(
        self, report_id: uuid.UUID, name: str, reports: ReportService, principal: Principal, state: State
    ) -> Response[bytes]:
        await reports.visible(report_id)
        photo = await PhotoStore(state.settings.report_photos).read(principal.tenant_id, report_id, name)
        return Response(photo.data, media_type=photo.media_type, headers={"Cache-Control": "private, no-store"})

    @post(
        "/{report_id:uuid}/photos",
        guards=[member_or_staff],
        request_max_body_size=PHOTOS_BODY_MOST,
        before_request=_some_part,
        summary="Add photos to a report one has filed and nobody has decided yet: JPEG, PNG or WebP, at most "
        "5 MiB each, three in all (multipart/form-data, each file part a photo)",
    )
    async def add_photos(
        self,
        report_id: uuid.UUID,
        data: Annotated[list[UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
        reports: ReportService,
        principal: Principal,
        state: State,
    ) -> ReportPhotos:
        await reports.for_photos(report_id)
        photos = [await upload.read(MAX_PHOTO_BYTES + 1) for upload in data]
        names = await PhotoStore(state.settings.report_photos).save(principal.tenant_id, report_id, photos)
        return ReportPhotos(report_id, names)

    @post(
        "/{report_id:uuid}/accept",
        status_code=200,
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
    ) -> Response[ReportPaid]:
        body = data or Accept()

        async def accept() -> ReportPaid:
            report, posted = await reports.accept(report_id, body.rule_code, ledger)
            return report_paid(report, posted)

        return await idempotent.run(idempotency_key, request.url.path, body, accept, status=200)

    @post(
        "/{report_id:uuid}/escalate",
        status_code=200,
        guards=[require_staff],
        summary="Hand the report to the parent unit (one level up)",
    )
    async def escalate(self, report_id: uuid.UUID, reports: ReportService, data: Escalate | None = None) -> Report:
        return report_answer(await reports.escalate(report_id, data.note if data else None))

    @post("/{report_id:uuid}/reject", status_code=200, guards=[require_staff], summary="Reject, with a reason")
    async def reject(self, report_id: uuid.UUID, data: Reject, reports: ReportService) -> Report:
        return report_answer(await reports.reject(report_id, data.reason))

    @post(
        "/{report_id:uuid}/resolve",
        status_code=200,
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
    ) -> Response[ReportPaid]:
        async def resolve() -> ReportPaid:
            report, posted = await reports.resolve(report_id, data.resolution, data.rule_code, data.member_id, ledger)
            return report_paid(report, posted)

        return await idempotent.run(idempotency_key, request.url.path, data, resolve, status=200)
