"""The console's 后台任务 page: one job the signed-in staff member started (a large import or the run of
a large evaluation), queued, running (an import with its rows written so far), or finished with its
counts or errors. While the job is
unfinished the page reloads itself every few seconds (a meta refresh: no script)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import Template
from saq import Job, Status

from admin.console.page import STAFF_PAGE
from admin.console.work import Work
from admin.imports.jobs import job_file
from points_service.exports import CSV, XLSX, download_headers
from points_service.web import Message

AnyRequest = Request[Any, Any, Any]
UNFINISHED = {Status.NEW, Status.QUEUED, Status.ACTIVE, Status.ABORTING}


class JobPages(Controller):
    path = "/jobs"

    @get("/{key:str}", name="console:job")
    async def job(self, request: AnyRequest, key: str, work: Work) -> Template:
        job = await _own_job(work, key)
        kwargs = job.kwargs or {}
        result: dict[str, Any] = job.result if isinstance(job.result, dict) else {}
        evaluation = job.function == "evaluation_run"
        export = job.function == "member_export"
        if job.status in UNFINISHED:
            state, message = ("running" if job.status == Status.ACTIVE else "queued"), None
        elif job.status == Status.COMPLETE and result.get("outcome") == "done":
            done = "evaluation_computed" if evaluation else "export_done" if export else "import_done"
            state, message = "done", Message.done(done)
        elif result.get("outcome") == "errors":
            state, message = "failed", Message.error("import_has_errors", count=len(result["errors"]))
        else:
            state, message = "failed", Message.error("job_failed")
        return STAFF_PAGE.render(
            request,
            "job",
            page_path=f"/admin/evaluations/{kwargs['evaluation_id']}" if evaluation else "/admin/imports",
            evaluation_id=kwargs.get("evaluation_id") if evaluation else None,
            export=export,
            key=key,
            state=state,
            meta=job.meta or {},
            result=result,
            message=message,
        )

    @get("/{key:str}/file", name="console:job_file")
    async def file(self, key: str, work: Work) -> Response[bytes]:
        """The file an export job built, while it is kept (an hour)."""
        job = await _own_job(work, key)
        result = job.result if isinstance(job.result, dict) else {}
        content = await job_file(work.state.job_queue, key) if result.get("outcome") == "done" else None
        if content is None:
            raise NotFoundException()
        filename = str(result["filename"])
        media_type = CSV if filename.endswith(".csv") else XLSX
        return Response(content, media_type=media_type, headers=download_headers(filename))


async def _own_job(work: Work, key: str) -> Job:
    job = await work.state.job_queue.job(key)
    # Only its starter sees a job; anyone else, or a job gone after a day, is "not found".
    if job is None or (job.kwargs or {}).get("account_id") != str(work.staff.account_id):
        raise NotFoundException()
    return job


JOB_CONTROLLERS = [JobPages]
