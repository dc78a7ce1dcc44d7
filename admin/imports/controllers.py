"""Spreadsheet imports of org units and members, and the member export in the import's own columns."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import anyio
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from admin.imports.schemas import ImportAnswer, MemberImportForm, UnitImportForm, import_answer
from points_service.auth.principal import Principal
from points_service.exports import CSV, XLSX, csv_text, download_headers, file_answers, xlsx_bytes
from points_service.openapi import REFUSALS
from points_service.org.imports import MEMBER_COLUMNS, RosterImport
from points_service.org.service import OrgService
from points_service.org.sheets import MAX_BYTES, Sheet, read_sheet

Multipart = Body(media_type=RequestEncodingType.MULTI_PART)
# Whole-file answers: 400 (bad form, >20,000 rows), 404 (a unit out of reach), 413 (>10 MiB), 422 (row errors).
IMPORT_REFUSALS = {400, 404, 413, 422}


async def read_upload(file: UploadFile) -> Sheet:
    # Parsing a large workbook takes a while: off the event loop, so other requests keep moving.
    content = await file.read()
    return await anyio.to_thread.run_sync(read_sheet, content, file.filename)


class ImportController(Controller):
    path = "/imports"
    tags = ["admin: imports and exports"]

    @post(
        "/org-units",
        summary="Import org units from a spreadsheet (dry run by default)",
        status_code=200,
        request_max_body_size=MAX_BYTES,
        opt={REFUSALS: IMPORT_REFUSALS},
    )
    async def org_units(self, data: Annotated[UnitImportForm, Multipart], roster: RosterImport) -> ImportAnswer:
        sheet = await read_upload(data.file)
        return import_answer(await roster.import_units(sheet, data.parent_id, data.dry_run))

    @post(
        "/members",
        summary="Import members from a spreadsheet, matched by phone (dry run by default)",
        status_code=200,
        request_max_body_size=MAX_BYTES,
        opt={REFUSALS: IMPORT_REFUSALS},
    )
    async def members(self, data: Annotated[MemberImportForm, Multipart], roster: RosterImport) -> ImportAnswer:
        sheet = await read_upload(data.file)
        outcome = await roster.import_members(sheet, data.org_unit_id, data.dry_run, data.create_logins)
        return import_answer(outcome)


class MemberExportController(Controller):
    path = "/members/export"
    tags = ["admin: imports and exports"]

    @get(
        "/",
        summary="Members of a subtree as a spreadsheet in the member import's columns",
        media_type=XLSX,
        operation_class=file_answers(XLSX, CSV),
    )
    async def export(
        self,
        roster: RosterImport,
        org_unit_id: uuid.UUID | None = None,
        format: Annotated[Literal["xlsx", "csv"], Parameter(description="xlsx (default) or csv")] = "xlsx",
    ) -> Response[bytes]:
        unit, rows = await roster.export_members(org_unit_id)
        filename = f"members-{unit.id.hex[:8]}.{format}"
        if format == "csv":
            return Response(csv_text(MEMBER_COLUMNS, rows).encode(), media_type=CSV, headers=download_headers(filename))
        return Response(
            await anyio.to_thread.run_sync(xlsx_bytes, "成员", MEMBER_COLUMNS, rows),
            media_type=XLSX,
            headers=download_headers(filename),
        )


async def provide_roster(db_session: AsyncSession, principal: Principal, org: OrgService) -> RosterImport:
    return RosterImport(db_session, principal, org)
