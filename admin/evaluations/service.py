"""Running an evaluation: the group, each metric's raw value, its normalisation (share of the best by
default, or percentile; metrics that say nothing about anyone left out), weighted score, rank (equal
scores share a rank; within a tie rows are listed by member id), grade from the score alone (with an
optional cap on the share of excellent) and top-N."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.metrics import METRICS, excellent_cap, normalise
from admin.evaluations.models import Evaluation, EvaluationResult
from admin.evaluations.repository import RESULT_COLUMNS, EvaluationRepository
from admin.evaluations.schemas import Breakdown, EarnedRecord, MetricShare
from points_service.auth.principal import Principal
from points_service.errors import DomainError, Forbidden, InvalidInput, NotFound
from points_service.org.models import Member, OrgUnit
from points_service.org.service import OrgService

DEFAULT_BANDS = {"excellent": 85, "qualified": 60, "basically_qualified": 40}
BANDED = ("excellent", "qualified", "basically_qualified")


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
    unit: str | None = None


def grade_of(score: Decimal, bands: dict[str, Any]) -> str:
    """The score's band: the best grade whose lowest score it reaches. Never the rank."""
    return next((grade for grade in BANDED if score >= Decimal(str(bands[grade]))), "unqualified")


def capped_grades(scores_in_order: list[Decimal], bands: dict[str, Any], cap: int | None) -> list[str]:
    """Each score's grade, best first. With a cap, at most `cap` are excellent: the others who reached
    that band are qualified, and a tie at the border is left out whole (no coin decides between equals)."""
    grades = [grade_of(score, bands) for score in scores_in_order]
    excellent = [i for i, grade in enumerate(grades) if grade == "excellent"]
    if cap is None or len(excellent) <= cap:
        return grades
    border = scores_in_order[excellent[cap]]
    for i in excellent:
        if i >= cap or scores_in_order[i] == border:
            grades[i] = "qualified"
    return grades


@dataclass(frozen=True)
class Scored:
    """A run's numbers before they are stored: each member's normalised values and score, and the
    weighed metrics left out for everyone."""

    normalised: dict[str, dict[uuid.UUID, float]]
    scores: dict[uuid.UUID, Decimal]
    excluded: list[str]


def score_group(raw: dict[uuid.UUID, tuple[Any, ...]], weights: dict[str, Decimal], how: str) -> Scored:
    """Normalise each weighed metric within the group and take each member's weighted mean over the
    metrics that count for them: a metric left out for everyone gives its weight to the others, and a
    member without a value for a metric gives its weight to their own other metrics."""
    columns = {metric: index for index, metric in enumerate(METRICS)}
    normalised: dict[str, dict[uuid.UUID, float]] = {}
    excluded = []
    for metric in weights:
        values = {member_id: values[columns[metric]] for member_id, values in raw.items()}
        shares = normalise(values, METRICS[metric].higher_is_better, how)
        if shares is None:
            excluded.append(metric)
        else:
            normalised[metric] = shares
    counted = [metric for metric in weights if metric in normalised]
    # Most members share their normalised values with others (a quiet member's are all equal), so
    # each distinct combination is scored once.
    points: dict[tuple[float | None, ...], Decimal] = {}
    scores = {}
    for member_id in raw:
        values = tuple(normalised[metric].get(member_id) for metric in counted)
        score = points.get(values)
        if score is None:
            present = [(weights[m], v) for m, v in zip(counted, values, strict=True) if v is not None]
            total = sum(weight for weight, _ in present)
            score = points[values] = (
                (sum(weight * Decimal(str(value)) for weight, value in present) / total) if total else Decimal(0)
            ).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        scores[member_id] = score
    return Scored(normalised, scores, excluded)


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
        # Every column set here, so nothing is left to a server default that would need a reload.
        fields = {"normalisation": "share_of_best", "max_excellent_share": None, "cadre_positions": None, **fields}
        evaluation = Evaluation(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            status="draft",
            created_by=self._principal.account_id,
            excluded_metrics=[],
            **fields,
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
            for name in (
                "period_start",
                "period_end",
                "metrics",
                "grade_bands",
                "org_unit_id",
                "target",
                "cadre_positions",
            )
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
        raw, placement = await self._repository.raw_values(evaluation, unit.path)
        group = list(raw)
        weights = {item["metric"]: Decimal(str(item["weight"])) for item in evaluation.metrics}
        scored = score_group(raw, weights, evaluation.normalisation)
        normalised, scores = scored.normalised, scored.scores
        counted = [metric for metric in weights if metric in normalised]
        ordered = sorted(group, key=lambda member_id: (-scores[member_id], str(member_id)))
        grades = capped_grades(
            [scores[member_id] for member_id in ordered],
            evaluation.grade_bands,
            excellent_cap(evaluation.max_excellent_share, len(ordered)),
        )
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
        normalised_json: dict[tuple[float | None, ...], str] = {}
        rows: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
        for position, (member_id, rank) in enumerate(zip(ordered, ranks, strict=True), start=1):
            values = raw[member_id]
            if values not in raw_json:
                raw_json[values] = json.dumps(dict(zip(METRICS, values, strict=True)))
            rounded = tuple(
                round(value, 4) if (value := normalised[metric].get(member_id)) is not None else None
                for metric in counted
            )
            if rounded not in normalised_json:
                normalised_json[rounded] = json.dumps(
                    {metric: value for metric, value in zip(counted, rounded, strict=True) if value is not None}
                )
            for name, value in zip(
                RESULT_COLUMNS,
                (
                    member_id,
                    position,
                    rank,
                    scores[member_id],
                    grades[position - 1],
                    rank <= limit_rank,
                    raw_json[values],
                    normalised_json[rounded],
                    placement[member_id][0],
                    placement[member_id][1],
                ),
                strict=True,
            ):
                rows[name].append(value)
        await self._repository.replace_results(evaluation.id, rows)
        evaluation.status = "computed"
        evaluation.computed_at = datetime.now(UTC)
        evaluation.excluded_metrics = [{"metric": metric, "reason": "no_variance"} for metric in scored.excluded]
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
        return evaluation, await result_rows(self._session, self._tenant_id, evaluation_id)

    async def breakdown(self, evaluation_id: uuid.UUID, member_id: uuid.UUID) -> Breakdown:
        """Why is this member where they are: each metric's raw value, normalised value, weight and share
        of the score (a metric that did not count for them says why), and the ledger lines behind the
        sourced metrics."""
        evaluation, rows = await self.results(evaluation_id)
        row = next((r for r in rows if r.result.member_id == member_id), None)
        if row is None:
            raise NotFound(f"Member {member_id} is not in this evaluation")
        excluded = {item["metric"] for item in evaluation.excluded_metrics}
        counting = {
            item["metric"]: Decimal(str(item["weight"]))
            for item in evaluation.metrics
            if item["metric"] in row.result.normalised
        }
        total_weight = sum(counting.values())
        metrics = []
        for item in evaluation.metrics:
            metric, weight = item["metric"], Decimal(str(item["weight"]))
            counted = metric in counting
            normalised = Decimal(str(row.result.normalised[metric])) if counted else None
            contribution = (
                (weight * normalised / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                if normalised is not None and total_weight
                else Decimal(0)
            )
            metrics.append(
                MetricShare(
                    metric=metric,
                    label=METRICS[metric].label,
                    raw=row.result.raw.get(metric),
                    normalised=float(normalised) if normalised is not None else None,
                    weight=float(weight),
                    contribution=float(contribution),
                    sourced=METRICS[metric].sourced,
                    counted=counted,
                    left_out=None if counted else ("no_variance" if metric in excluded else "no_value"),
                )
            )
        records = await self._repository.earned_records(member_id, evaluation.period_start, evaluation.period_end)
        return Breakdown(
            member_id=member_id,
            name=row.name,
            unit=row.unit,
            position=row.result.cadre_position,
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
        if fields.get("cadre_positions") and fields.get("target") != "cadres":
            raise InvalidInput("cadre_positions", "only an evaluation of cadres is limited to positions")


async def result_rows(session: AsyncSession, tenant_id: uuid.UUID, evaluation_id: uuid.UUID) -> list[ResultRow]:
    """A run's rows best first, with each member's name and the unit they stood in when it was run
    (their unit now for runs made before units were kept)."""
    unit_id = func.coalesce(EvaluationResult.org_unit_id, Member.org_unit_id)
    rows = await session.execute(
        select(EvaluationResult, Member.name, OrgUnit.name)
        .join(Member, (Member.tenant_id == EvaluationResult.tenant_id) & (Member.id == EvaluationResult.member_id))
        .outerjoin(OrgUnit, (OrgUnit.tenant_id == EvaluationResult.tenant_id) & (OrgUnit.id == unit_id))
        .where(EvaluationResult.tenant_id == tenant_id, EvaluationResult.evaluation_id == evaluation_id)
        .order_by(EvaluationResult.position)
    )
    return [ResultRow(result, name, unit) for result, name, unit in rows]
