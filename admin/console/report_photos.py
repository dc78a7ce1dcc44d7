"""A problem report's photos in the staff console: shown beside the report to staff who reach it, through
the same check as the report itself (`ReportService.visible`), so staff elsewhere get 404."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get

from admin.console.work import Work
from points_service.reports.photos import PhotoStore


def photo_store(work: Work) -> PhotoStore:
    return PhotoStore(work.state.settings.report_photos)


class ConsoleReportPhotos(Controller):
    path = "/reports"

    @get("/{report_id:uuid}/photos/{name:str}", name="console:report_photo")
    async def photo(self, report_id: uuid.UUID, name: str, work: Work) -> Response[bytes]:
        await work.reports.visible(report_id)
        photo = await photo_store(work).read(work.staff.tenant_id, report_id, name)
        return Response(photo.data, media_type=photo.media_type)
