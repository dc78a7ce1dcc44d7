"""Evaluations of large groups as jobs: the console's 计算 of an evaluation whose unit holds more than
`LARGE_GROUP` members is run by the job queue's worker, as the staff member who asked, and the
console's 后台任务 page follows it. The API's run stays synchronous, as its contract says.

A run replaces the evaluation's results in one transaction, so a retried job (its worker died) computes
the same results again and stores them once: nothing is added twice."""

from __future__ import annotations

import uuid
from typing import Any

from saq import Queue
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.service import EvaluationService
from admin.imports.jobs import members_under
from points_service.auth.principal import Principal
from points_service.errors import DomainError
from points_service.jobs import JobContext, Work
from points_service.jobs.work import acting_staff
from points_service.jobs.worker import enqueue_for_staff
from points_service.org.service import OrgService

LARGE_GROUP = 2000


async def is_large(session: AsyncSession, staff: Principal, evaluation_id: uuid.UUID) -> bool:
    """Whether the evaluation's unit holds more than LARGE_GROUP members (its widest group)."""
    evaluation = await EvaluationService(session, staff, OrgService(session, staff)).get(evaluation_id)
    unit = await OrgService(session, staff).unit_in_reach(evaluation.org_unit_id)
    return await members_under(session, staff, unit.path) > LARGE_GROUP


async def run_evaluation(job: JobContext, tenant_id: str, account_id: str, evaluation_id: str) -> dict[str, Any]:
    await job.progress(0, 1, stage="computing")
    try:
        async with job.sessions() as session, session.begin():
            staff = await acting_staff(session, tenant_id, account_id)
            if staff is None:
                return {"outcome": "refused", "code": "account_inactive"}
            service = EvaluationService(session, staff, OrgService(session, staff))
            _, members, _ = await service.run(uuid.UUID(evaluation_id))
    except DomainError as error:
        return {"outcome": "refused", "code": error.code}
    return {"outcome": "done", "members": members, "evaluation_id": evaluation_id}


EVALUATION_RUN = Work("evaluation_run", run_evaluation, timeout=1800)


async def hand_over(queue: Queue, staff: Principal, evaluation_id: uuid.UUID) -> str:
    """Queue the run; the job's key. One unfinished run per evaluation and staff member: a second press
    of the button while it runs finds the first."""
    key = f"evaluation-{evaluation_id.hex}-{staff.account_id.hex}"
    return await enqueue_for_staff(
        queue, EVALUATION_RUN, key, staff.tenant_id, staff.account_id, evaluation_id=str(evaluation_id)
    )
