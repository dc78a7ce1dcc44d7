"""The console's roster pages: members of a unit and its subtree with search (name, pinyin initials, last
digits of the phone), a member's page (details, balance, history) with edit and move, adding a member,
adding and renaming org units, and spreadsheet imports (a dry run first, its errors as a table, then the
import; a printable sheet of new logins, shown once), template downloads and exports.

The pages call the same services as the staff API (OrgService, RosterImport) with the signed-in staff
member's Principal, so reach and per-object checks are the API's.

Between the dry run and the import the uploaded file waits in a private temporary folder under a random
token bound to the staff account, so staff choose the file once; an hour later it is gone.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from admin.console.job_pages import JOB_CONTROLLERS
from admin.console.page import STAFF_PAGE, staff_action
from admin.console.work import PAGE, Work, unit_asked, unit_choices
from admin.imports.jobs import LARGE_EXPORT_ROWS, LARGE_IMPORT_ROWS, hand_over, hand_over_export, members_under
from points_service.errors import DomainError, InvalidInput
from points_service.exports import CSV, XLSX, csv_text, download_headers, xlsx_bytes
from points_service.jobs.worker import unless_unreachable
from points_service.leaderboards.service import after_members_moved, after_units_moved
from points_service.ledger.service import member_balance
from points_service.org.editing import RosterEdits
from points_service.org.imports import (
    MEMBER_COLUMNS,
    PARTY_LABELS,
    PHONE_PATTERN,
    ImportInvalid,
    RosterImport,
    member_template,
    unit_template,
)
from points_service.org.models import ORG_UNIT_KINDS, OrgUnit
from points_service.org.sheets import MAX_BYTES, read_sheet
from points_service.pagination import decode_cursor, encode_cursor
from points_service.web import Message, local_time

AnyRequest = Request[Any, Any, Any]
HISTORY_LINES = 30
STASH_SECONDS = 3600
STASH = Path(tempfile.gettempdir()) / "red-points-imports"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _text(form: Any, name: str, limit: int) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _unit_field(form: Any, name: str = "org_unit_id") -> uuid.UUID:
    unit = unit_asked(str(form.get(name) or ""))
    if unit is None:
        raise InvalidInput(name, "required")
    return unit


def _member_fields(form: Any) -> dict[str, Any]:
    name = _text(form, "name", 100)
    phone = _text(form, "phone", 20)
    party = str(form.get("party_status") or "none")
    if not name:
        raise InvalidInput("name", "required")
    if not PHONE_PATTERN.match(phone):
        raise _InvalidPhone()
    if party not in PARTY_LABELS:
        raise InvalidInput("party_status", "unknown")
    return {
        "name": name,
        "phone": phone,
        "party_status": party,
        "cadre_position": _text(form, "cadre_position", 50) or None,
    }


class _InvalidPhone(DomainError):
    status_code = 400
    code = "invalid_phone"
    title = "Invalid phone"


# -- the stash between a dry run and its import --------------------------------------------------------


def _stash_path(account_id: uuid.UUID, token: str) -> Path:
    return STASH / f"{account_id.hex}-{token}"


def _stash(account_id: uuid.UUID, content: bytes) -> str:
    STASH.mkdir(mode=0o700, exist_ok=True)
    now = time.time()
    for old in STASH.iterdir():
        try:
            if now - old.stat().st_mtime > STASH_SECONDS:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(24)
    _stash_path(account_id, token).write_bytes(content)
    return token


def _unstash(account_id: uuid.UUID, token: str) -> bytes | None:
    if not TOKEN.match(token):
        return None
    path = _stash_path(account_id, token)
    try:
        if time.time() - path.stat().st_mtime > STASH_SECONDS:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _drop(account_id: uuid.UUID, token: str) -> None:
    if TOKEN.match(token):
        _stash_path(account_id, token).unlink(missing_ok=True)


# -- pages ------------------------------------------------------------------------------------------


class RosterPages(Controller):
    path = "/"

    @get("/members", name="console:members")
    async def members(
        self,
        request: AnyRequest,
        work: Work,
        unit: str | None = None,
        q: str | None = None,
        cursor: str | None = None,
    ) -> Template:
        chosen, options = await unit_choices(work, unit_asked(unit))
        needle = (q or "").strip()[:50]
        found = await work.org.search_members(
            needle or None, chosen.id if chosen else None, PAGE, decode_cursor(cursor)
        )
        rows = found[:PAGE]
        units = await _unit_names(work, {member.org_unit_id for member in rows})
        last = rows[-1] if len(found) > PAGE else None
        return STAFF_PAGE.render(
            request,
            "members",
            rows=[(member, units.get(member.org_unit_id, "")) for member in rows],
            chosen=chosen,
            units=options,
            q=needle,
            party_labels=PARTY_LABELS,
            next_cursor=encode_cursor(last.created_at, last.id) if last else None,
        )

    @get("/members/new", name="console:new_member")
    async def new_member(self, request: AnyRequest, work: Work, unit: str | None = None) -> Template:
        chosen, _ = await unit_choices(work, unit_asked(unit))
        return STAFF_PAGE.render(
            request, "member_new", chosen=chosen, units=await _all_units(work), party_labels=PARTY_LABELS
        )

    @post("/members", name="console:add_member")
    async def add_member(self, request: AnyRequest, work: Work) -> Response[Any]:
        form = await request.form()
        try:
            async with work.db_session.begin_nested():
                fields = _member_fields(form)
                member = await work.org.create_member(
                    await work.ledger(),
                    fields["name"],
                    fields["phone"],
                    _unit_field(form),
                    fields["party_status"],
                    fields["cadre_position"],
                    None,
                    None,
                )
        except DomainError as error:
            return STAFF_PAGE.redirect(request, "/admin/members/new", STAFF_PAGE.refusal(request, error))
        return STAFF_PAGE.redirect(request, f"/admin/members/{member.id}", Message.done("member_added"))

    @get("/members/{member_id:uuid}", name="console:member")
    async def member(self, request: AnyRequest, member_id: uuid.UUID, work: Work) -> Template:
        member = await work.org.member_in_reach(member_id)
        unit = await work.org.unit_in_reach(member.org_unit_id)
        history = await (await work.ledger()).history(member.id, HISTORY_LINES, None)
        return STAFF_PAGE.render(
            request,
            "member",
            member=member,
            unit=unit,
            units=await _all_units(work),
            balance=await member_balance(work.state.read_pool, work.clock, work.staff.tenant_id, member.id),
            history=history,
            login=await RosterEdits(work.db_session, work.org, work.staff.tenant_id).login_of(member.id),
            party_labels=PARTY_LABELS,
            local=local_time(work.clock),
        )

    @post("/members/{member_id:uuid}/edit", name="console:edit_member")
    async def edit_member(self, request: AnyRequest, member_id: uuid.UUID, work: Work) -> Response[Any]:
        async def edit(form: Any) -> None:
            await RosterEdits(work.db_session, work.org, work.staff.tenant_id).edit_member(
                member_id, **_member_fields(form)
            )

        return await staff_action(request, work.db_session, edit, f"/admin/members/{member_id}", "member_saved")

    @post("/members/{member_id:uuid}/move", name="console:move_member")
    async def move_member(self, request: AnyRequest, member_id: uuid.UUID, work: Work) -> Response[Any]:
        async def move(form: Any) -> None:
            await RosterEdits(work.db_session, work.org, work.staff.tenant_id).edit_member(
                member_id, org_unit_id=_unit_field(form)
            )
            # The member's points leave the old unit's boards and join the new one's: rebuilt, as after
            # the API's move of a member.
            after_members_moved(work.db_session, work.state.redis, work.staff.tenant_id)

        return await staff_action(request, work.db_session, move, f"/admin/members/{member_id}", "member_moved")

    @post("/units", name="console:add_unit")
    async def add_unit(self, request: AnyRequest, work: Work) -> Response[Any]:
        async def add(form: Any) -> None:
            name, kind = _text(form, "name", 100), str(form.get("kind") or "")
            if not name or kind not in ORG_UNIT_KINDS:
                raise InvalidInput("name", "required")
            parent = unit_asked(str(form.get("parent_id") or ""))
            await work.org.create_unit(name, kind, parent)

        return await staff_action(request, work.db_session, add, "/admin/", "unit_added")

    @post("/units/{unit_id:uuid}/rename", name="console:rename_unit")
    async def rename_unit(self, request: AnyRequest, unit_id: uuid.UUID, work: Work) -> Response[Any]:
        async def rename(form: Any) -> None:
            name = _text(form, "name", 100)
            if not name:
                raise InvalidInput("name", "required")
            await RosterEdits(work.db_session, work.org, work.staff.tenant_id).rename_unit(unit_id, name)

        return await staff_action(request, work.db_session, rename, f"/admin/?unit={unit_id}", "unit_renamed")

    @post("/units/{unit_id:uuid}/move", name="console:move_unit")
    async def move_unit(self, request: AnyRequest, unit_id: uuid.UUID, work: Work) -> Response[Any]:
        async def move(form: Any) -> None:
            parent = unit_asked(str(form.get("parent_id") or ""))
            if parent is None:
                raise InvalidInput("parent_id", "choose the unit to move it under")
            await RosterEdits(work.db_session, work.org, work.staff.tenant_id).move_unit(unit_id, parent)
            after_units_moved(
                work.db_session, work.state.redis, work.state.get("leaderboard_unit_paths"), work.staff.tenant_id
            )

        return await staff_action(request, work.db_session, move, f"/admin/?unit={unit_id}", "unit_moved")

    # -- imports, templates, exports ----------------------------------------------------------------

    @get("/imports", name="console:imports")
    async def imports(self, request: AnyRequest, work: Work) -> Template:
        return STAFF_PAGE.render(
            request, "imports", page_path="/admin/imports", units=await _all_units(work), kind="members", checked=None
        )

    @post("/imports", name="console:import_check", request_max_body_size=MAX_BYTES)
    async def check(self, request: AnyRequest, work: Work) -> Response[Any]:
        """The dry run of an uploaded file; the same form with `token` (no file) writes it, or, for a
        large sheet, hands it to the job queue and shows the job's page."""
        form = await request.form()
        kind = "units" if form.get("kind") == "units" else "members"
        unit = unit_asked(str(form.get("org_unit_id") or ""))
        create_logins = form.get("create_logins") in ("true", "on")
        token = str(form.get("token") or "")
        upload = form.get("file")
        units = await _all_units(work)
        if token:
            content = await anyio.to_thread.run_sync(_unstash, work.staff.account_id, token)
            if content is None:
                return STAFF_PAGE.render(
                    request,
                    "imports",
                    page_path="/admin/imports",
                    units=units,
                    kind=kind,
                    checked=None,
                    message="import_expired",
                )
            filename = str(form.get("filename") or "")
            dry_run = False
        else:
            if upload is None or not hasattr(upload, "read"):
                return STAFF_PAGE.render(
                    request,
                    "imports",
                    page_path="/admin/imports",
                    units=units,
                    kind=kind,
                    checked=None,
                    message="choose_file",
                )
            content = await upload.read()
            filename = upload.filename or ""
            dry_run = True
        roster = RosterImport(work.db_session, work.staff, work.org)
        base = {
            "page_path": "/admin/imports",
            "units": units,
            "kind": kind,
            "unit": unit,
            "create_logins": create_logins,
            "filename": filename,
        }
        try:
            sheet = await anyio.to_thread.run_sync(read_sheet, content, filename)
            # New logins are shown once and never stored in the clear, so a sheet that asks for them
            # is written here, however large.
            if not dry_run and len(sheet.rows) > LARGE_IMPORT_ROWS and not (kind == "members" and create_logins):
                staff = work.staff
                async with unless_unreachable():
                    key = await hand_over(
                        work.state.job_queue, staff.tenant_id, staff.account_id, kind, unit, content, filename
                    )
                    await anyio.to_thread.run_sync(_drop, staff.account_id, token)
                    return STAFF_PAGE.redirect(request, f"/admin/jobs/{key}", Message.done("import_queued"))
            async with work.db_session.begin_nested():
                if kind == "units":
                    outcome = await roster.import_units(sheet, unit, dry_run)
                else:
                    outcome = await roster.import_members(sheet, unit, dry_run, create_logins)
        except ImportInvalid as invalid:
            errors = invalid.extra["errors"]
            return STAFF_PAGE.render(
                request,
                "imports",
                checked=None,
                errors=errors,
                message=Message.error("import_has_errors", count=len(errors)),
                **base,
            )
        except DomainError as error:
            return STAFF_PAGE.render(
                request, "imports", checked=None, message=STAFF_PAGE.refusal(request, error), **base
            )
        if dry_run:
            stashed = await anyio.to_thread.run_sync(_stash, work.staff.account_id, content)
            return STAFF_PAGE.render(
                request,
                "imports",
                checked=outcome,
                token=stashed,
                message=Message.done("import_checked"),
                **base,
            )
        await anyio.to_thread.run_sync(_drop, work.staff.account_id, token)
        if outcome.logins:
            # Shown this once: the passwords are stored only as hashes.
            return STAFF_PAGE.render(
                request,
                "logins",
                page_path="/admin/imports",
                logins=outcome.logins,
                message=Message.done("import_done_logins"),
            )
        return STAFF_PAGE.render(
            request, "imports", checked=None, done=outcome, message=Message.done("import_done"), **base
        )

    @get("/imports/template/{kind:str}", name="console:import_template")
    async def template(self, kind: str, work: Work) -> Response[bytes]:
        header, rows = unit_template() if kind.startswith("units") else member_template()
        name = "org-units" if kind.startswith("units") else "members"
        if kind.endswith(".csv"):
            return Response(
                csv_text(header, rows).encode(), media_type=CSV, headers=download_headers(f"{name}-template.csv")
            )
        return Response(
            xlsx_bytes("模板", header, rows), media_type=XLSX, headers=download_headers(f"{name}-template.xlsx")
        )

    @get("/members/export", name="console:export_members")
    async def export(
        self, request: AnyRequest, work: Work, unit: str | None = None, format: str = "xlsx"
    ) -> Response[Any]:
        # Without a unit: the caller's own (an admin's first top-level unit), as the member list shows.
        homes = await work.records.home_units()
        chosen = unit_asked(unit) or (homes[0].id if homes else None)
        if chosen is not None:
            shown_unit = await work.org.unit_in_reach(chosen)
            # A large subtree's file is built by the job queue's worker; its page offers the download.
            if await members_under(work.db_session, work.staff, shown_unit.path) > LARGE_EXPORT_ROWS:
                wanted = "csv" if format == "csv" else "xlsx"
                async with unless_unreachable():
                    key = await hand_over_export(work.state.job_queue, work.staff, chosen, wanted)
                    return STAFF_PAGE.redirect(request, f"/admin/jobs/{key}", Message.done("export_queued"))
        shown, rows = await RosterImport(work.db_session, work.staff, work.org).export_members(chosen)
        filename = f"members-{shown.id.hex[:8]}"
        if format == "csv":
            return Response(
                csv_text(MEMBER_COLUMNS, rows).encode(), media_type=CSV, headers=download_headers(f"{filename}.csv")
            )
        return Response(
            await anyio.to_thread.run_sync(xlsx_bytes, "成员", MEMBER_COLUMNS, rows),
            media_type=XLSX,
            headers=download_headers(f"{filename}.xlsx"),
        )


async def _all_units(work: Work) -> list[tuple[OrgUnit, int]]:
    return await RosterEdits(work.db_session, work.org, work.staff.tenant_id).units_with_depth()


async def _unit_names(work: Work, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    return await RosterEdits(work.db_session, work.org, work.staff.tenant_id).unit_names(ids)


ROSTER_CONTROLLERS = [RosterPages, *JOB_CONTROLLERS]
