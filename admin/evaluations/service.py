"""Running an evaluation: the group, each metric's raw value, percentile normalisation, weighted score,
rank (equal scores share a rank; within a tie rows are listed by member id), grade and top-N."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.metrics import METRICS, percentiles
from admin.evaluations.models import Evaluation, EvaluationResult
from admin.evaluations.repository import RESULT_COLUMNS, EvaluationRepository
from admin.evaluations.schemas import Breakdown, EarnedRecord, MetricShare
from points_service.auth.principal import Principal
from points_service.errors import DomainError, Forbidden, InvalidInput, NotFound
from points_service.org.models import Member
from points_service.org.service import OrgService

DEFAULT_BANDS = {"by": "score", "excellent": 85, "qualified": 60, "basically_qualified": 40}


class Published(DomainError):
    code = "published"
    title = "Published evaluations never change"


class NotComputed(DomainError):
    code = "not_computed"
    title = "Run the evaluation first"


@dataclass(frozen=True)
class ResultRow:
    result: EvaluationResult
    name: str


def grader(bands: dict[str, Any], count: int) -> Callable[[Decimal, int], str]:
    """`grade_of` for one run, with the thresholds read once."""
    grades = ("excellent", "qualified", "basically_qualified")
    if bands.get("by") == "share":
        borders = [(grade, round(count * float(bands[grade]) / 100)) for grade in grades]
        return lambda _score, position: next((g for g, border in borders if position <= border), "unqualified")
    thresholds = [(grade, Decimal(str(bands[grade]))) for grade in grades]
    return lambda score, _position: next((g for g, least in thresholds if score >= least), "unqualified")


def grade_of(score: Decimal, position: int, count: int, bands: dict[str, Any]) -> str:
    """By score: the score's band. By share: the share of the group above this position."""
    for grade in ("excellent", "qualified", "basically_qualified"):
        if bands.get("by") == "share":
            if position <= round(count * float(bands[grade]) / 100):
                return grade
        elif score >= Decimal(str(bands[grade])):
            return grade
    return "unqualified"


class EvaluationService:
    def __init__(self, session: AsyncSession, principal: Principal, org: OrgService) -> None:
        self._session = session
        self._principal = principal
        self._tenant_id = principal.tenant_id
        self._org = org
        self._repository = EvaluationRepository(session, self._tenant_id)

    async def create(self, fields: dict[str, Any]) -> Evaluation:
        await self._org.unit_in_reach(fields["org_unit_id"])
        self._validate(fields)
        evaluation = Evaluation(
            id=uuid.uuid4(), tenant_id=self._tenant_id, status="draft", created_by=self._principal.account_id, **fields
        )
        self._session.add(evaluation)
        await self._session.flush()
        return evaluation

    async def get(self, evaluation_id: uuid.UUID, for_update: bool = False) -> Evaluation:
        statement = select(Evaluation).where(Evaluation.tenant_id == self._tenant_id, Evaluation.id == evaluation_id)
        evaluation = await self._session.scalar(statement.with_for_update() if for_update else statement)
        if evaluation is None:
            raise NotFound(f"No such evaluation: {evaluation_id}")
        await self._org.unit_in_reach(evaluation.org_unit_id)
        return evaluation

    async def update(self, evaluation_id: uuid.UUID, fields: dict[str, Any]) -> Evaluation:
        evaluation = await self.get(evaluation_id, for_update=True)
        if evaluation.status == "published":
            raise Published()
        merged = {
            name: getattr(evaluation, name)
            for name in ("period_start", "period_end", "metrics", "grade_bands", "org_unit_id")
        } | fields
        if "org_unit_id" in fields:
            await self._org.unit_in_reach(fields["org_unit_id"])
        self._validate(merged)
        for name, value in fields.items():
            setattr(evaluation, name, value)
        evaluation.status = "draft"
        await self._repository.clear_results(evaluation.id)
        await self._session.flush()
        return evaluation

    async def run(self, evaluation_id: uuid.UUID) -> tuple[Evaluation, int, list[str]]:
        evaluation = await self.get(evaluation_id, for_update=True)
        if evaluation.status == "published":
            raise Published()
        unit = await self._org.unit_in_reach(evaluation.org_unit_id)
        raw = await self._repository.raw_values(evaluation, unit.path)
        group = list(raw)
        weights = {item["metric"]: Decimal(str(item["weight"])) for item in evaluation.metrics}
        weighted = list(weights)
        total_weight = sum(weights.values())
        columns = {metric: index for index, metric in enumerate(METRICS)}
        normalised = {
            metric: percentiles(
                {m: float(values[columns[metric]]) for m, values in raw.items()}, METRICS[metric].higher_is_better
            )
            for metric in weighted
        }
        # Most members share their normalised values with others (a quiet member's are all equal), so
        # each distinct combination is scored once.
        points: dict[tuple[float, ...], Decimal] = {}
        scores = {}
        for member_id in group:
            values = tuple(normalised[metric][member_id] for metric in weighted)
            score = points.get(values)
            if score is None:
                score = points[values] = (
                    sum(weights[m] * Decimal(str(value)) for m, value in zip(weighted, values, strict=True))
                    / total_weight
                ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            scores[member_id] = score
        ordered = sorted(group, key=lambda member_id: (-scores[member_id], str(member_id)))
        grade = grader(evaluation.grade_bands, len(ordered))
        ranks = []
        rank = 0
        border_rank = None
        for position, member_id in enumerate(ordered, start=1):
            if position == 1 or scores[member_id] != scores[ordered[position - 2]]:
                rank = position
            if position == evaluation.top_n:
                border_rank = rank
            ranks.append(rank)
        # All rows tied at the border are in the top-N: a tie is never split by the cut.
        limit_rank = (border_rank if border_rank is not None else rank) if evaluation.top_n else 0
        raw_json: dict[tuple[Any, ...], str] = {}
        normalised_json: dict[tuple[float, ...], str] = {}
        rows: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
        for position, (member_id, rank) in enumerate(zip(ordered, ranks, strict=True), start=1):
            values = raw[member_id]
            if values not in raw_json:
                raw_json[values] = json.dumps(dict(zip(METRICS, values, strict=True)))
            rounded = tuple(round(normalised[metric][member_id], 4) for metric in weighted)
            if rounded not in normalised_json:
                normalised_json[rounded] = json.dumps(dict(zip(weighted, rounded, strict=True)))
            for name, value in zip(
                RESULT_COLUMNS,
                (
                    member_id,
                    position,
                    rank,
                    scores[member_id],
                    grade(scores[member_id], position),
                    rank <= limit_rank,
                    raw_json[values],
                    normalised_json[rounded],
                ),
                strict=True,
            ):
                rows[name].append(value)
        await self._repository.replace_results(evaluation.id, rows)
        evaluation.status = "computed"
        evaluation.computed_at = datetime.now(UTC)
        await self._session.flush()
        unsourced = [metric for metric in weights if not METRICS[metric].sourced]
        return evaluation, len(group), unsourced

    async def publish(self, evaluation_id: uuid.UUID) -> Evaluation:
        if not self._principal.is_admin:
            raise Forbidden("Only a tenant admin publishes an evaluation")
        evaluation = await self.get(evaluation_id, for_update=True)
        if evaluation.status == "published":
            raise Published()
        if evaluation.status != "computed":
            raise NotComputed()
        evaluation.status = "published"
        evaluation.published_at = datetime.now(UTC)
        await self._session.flush()
        return evaluation

    async def results(self, evaluation_id: uuid.UUID) -> tuple[Evaluation, list[ResultRow]]:
        evaluation = await self.get(evaluation_id)
        if evaluation.status == "draft":
            raise NotComputed()
        rows = await self._session.execute(
            select(EvaluationResult, Member.name)
            .join(Member, (Member.tenant_id == EvaluationResult.tenant_id) & (Member.id == EvaluationResult.member_id))
            .where(EvaluationResult.tenant_id == self._tenant_id, EvaluationResult.evaluation_id == evaluation_id)
            .order_by(EvaluationResult.position)
        )
        return evaluation, [ResultRow(result, name) for result, name in rows]

    async def breakdown(self, evaluation_id: uuid.UUID, member_id: uuid.UUID) -> Breakdown:
        """Why is this member where they are: each metric's raw value, percentile, weight and share of
        the score, and the ledger lines behind the sourced metrics."""
        evaluation, rows = await self.results(evaluation_id)
        row = next((r for r in rows if r.result.member_id == member_id), None)
        if row is None:
            raise NotFound(f"Member {member_id} is not in this evaluation")
        total_weight = sum(Decimal(str(item["weight"])) for item in evaluation.metrics)
        metrics = []
        for item in evaluation.metrics:
            metric, weight = item["metric"], Decimal(str(item["weight"]))
            normalised = Decimal(str(row.result.normalised[metric]))
            metrics.append(
                MetricShare(
                    metric=metric,
                    label=METRICS[metric].label,
                    raw=row.result.raw[metric],
                    normalised=float(normalised),
                    weight=float(weight),
                    contribution=float(
                        (weight * normalised / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    ),
                    sourced=METRICS[metric].sourced,
                )
            )
        records = await self._repository.earned_records(member_id, evaluation.period_start, evaluation.period_end)
        return Breakdown(
            member_id=member_id,
            name=row.name,
            rank=row.result.rank,
            score=float(row.result.score),
            grade=row.result.grade,
            top_n=row.result.top_n,
            metrics=metrics,
            records=[
                EarnedRecord(
                    transaction_id=r.id,
                    at=r.created_at,
                    date=r.local_date,
                    kind=r.kind,
                    rule_code=r.rule_code,
                    earned=int(r.earned_delta),
                    memo=r.memo,
                )
                for r in records
            ],
        )

    # -- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _validate(fields: dict[str, Any]) -> None:
        if fields["period_start"] > fields["period_end"]:
            raise InvalidInput("period_start", "must not be after period_end")
        names = [item["metric"] for item in fields["metrics"]]
        if len(set(names)) != len(names):
            raise InvalidInput("metrics", "each metric at most once")
        bands = fields["grade_bands"]
        if not bands["excellent"] >= bands["qualified"] >= bands["basically_qualified"]:
            raise InvalidInput("grade_bands", "excellent >= qualified >= basically_qualified")
