"""The reads behind the 公示 board and a member's own results. Only published evaluations are read,
and names leave here masked (except a member's own results, which carry no names at all)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.models import Evaluation
from admin.evaluations.schemas import (
    MyEvaluation,
    MyEvaluationOf,
    PublicEvaluation,
    PublicResult,
)
from admin.evaluations.service import result_rows
from points_service.errors import NotFound
from points_service.org.models import OrgUnit
from points_service.org.names import mask_name
from points_service.tenancy.periods import month_start
from points_service.web.landing import BoardLink

# A board shows the newest published evaluations; older ones stay in the JSON of earlier prints.
EVALUATIONS_SHOWN = 20
BOARD_SHOWN = 10


@dataclass(frozen=True)
class BoardLine:
    rank: int
    display_name: str
    points: int


async def published_boards(session: AsyncSession, most: int) -> list[BoardLink]:
    """The units whose board shows a published evaluation, newest publication first, for the landing
    page: the unit's name and its newest evaluation's name, which the board shows anyone anyway."""
    newest = (
        select(
            Evaluation.tenant_id,
            Evaluation.org_unit_id,
            Evaluation.name,
            func.row_number()
            .over(
                partition_by=(Evaluation.tenant_id, Evaluation.org_unit_id),
                order_by=(Evaluation.published_at.desc(), Evaluation.id),
            )
            .label("nth"),
            Evaluation.published_at,
        )
        .where(Evaluation.status == "published")
        .subquery()
    )
    rows = await session.execute(
        select(OrgUnit.id, OrgUnit.name, newest.c.name)
        .join(newest, (newest.c.tenant_id == OrgUnit.tenant_id) & (newest.c.org_unit_id == OrgUnit.id))
        .where(newest.c.nth == 1)
        .order_by(newest.c.published_at.desc(), OrgUnit.id)
        .limit(most)
    )
    return [BoardLink(unit_id, unit_name, latest) for unit_id, unit_name, latest in rows]


async def public_unit(session: AsyncSession, unit_id: uuid.UUID) -> OrgUnit:
    """A unit by id alone (the board is reached without signing in, so no tenant is known yet)."""
    unit = await session.scalar(select(OrgUnit).where(OrgUnit.id == unit_id).limit(1))
    if unit is None:
        raise NotFound(f"No such unit: {unit_id}")
    return unit


async def published_evaluations(session: AsyncSession, unit: OrgUnit) -> list[PublicEvaluation]:
    evaluations = await session.scalars(
        select(Evaluation)
        .where(
            Evaluation.tenant_id == unit.tenant_id,
            Evaluation.org_unit_id == unit.id,
            Evaluation.status == "published",
        )
        .order_by(Evaluation.published_at.desc(), Evaluation.id)
        .limit(EVALUATIONS_SHOWN)
    )
    shown = []
    for evaluation in evaluations:
        assert evaluation.published_at is not None
        rows = await result_rows(session, unit.tenant_id, evaluation.id)
        shown.append(
            PublicEvaluation(
                id=evaluation.id,
                name=evaluation.name,
                period_start=evaluation.period_start,
                period_end=evaluation.period_end,
                published_at=evaluation.published_at,
                results=[
                    PublicResult(
                        rank=row.result.rank,
                        display_name=mask_name(row.name),
                        grade=row.result.grade,  # type: ignore[arg-type]
                        score=float(row.result.score),
                    )
                    for row in rows
                ],
            )
        )
    return shown


async def month_board(session: AsyncSession, unit: OrgUnit, today: date) -> list[BoardLine]:
    """The unit's members by earned points this month, names masked (equal points share a rank)."""
    rows = await session.execute(
        text("""SELECT m.name, e.earned FROM member_earned_monthly e
                  JOIN members m ON m.tenant_id = e.tenant_id AND m.id = e.member_id
                  JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                 WHERE e.tenant_id = :tenant AND e.month = :month AND e.earned > 0 AND starts_with(u.path, :path)
                 ORDER BY e.earned DESC, m.id
                 LIMIT :limit"""),
        {"tenant": unit.tenant_id, "month": month_start(today), "path": unit.path, "limit": BOARD_SHOWN},
    )
    lines: list[BoardLine] = []
    for position, (name, earned) in enumerate(rows, start=1):
        rank = lines[-1].rank if lines and lines[-1].points == earned else position
        lines.append(BoardLine(rank, mask_name(name), int(earned)))
    return lines


async def my_evaluations(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID) -> list[MyEvaluation]:
    """The published evaluations the member is in, newest first, with the raw values of the metrics each
    one weighed."""
    rows = await session.execute(
        text("""SELECT e.id, e.name, e.period_start, e.period_end, e.metrics, r.rank, r.score, r.grade, r.raw,
                       (SELECT count(*) FROM evaluation_results x
                         WHERE x.tenant_id = r.tenant_id AND x.evaluation_id = r.evaluation_id) AS of
                  FROM evaluation_results r
                  JOIN evaluations e ON e.tenant_id = r.tenant_id AND e.id = r.evaluation_id
                 WHERE r.tenant_id = :tenant AND r.member_id = :member AND e.status = 'published'
                 ORDER BY e.published_at DESC, e.id"""),
        {"tenant": tenant_id, "member": member_id},
    )
    return [
        MyEvaluation(
            evaluation=MyEvaluationOf(row.id, row.name, row.period_start, row.period_end),
            rank=row.rank,
            of=int(row.of),
            score=float(row.score),
            grade=row.grade,
            metrics={item["metric"]: row.raw.get(item["metric"]) for item in row.metrics},
        )
        for row in rows
    ]
