"""Evaluations as they go over the wire: the scheme staff define, its runs and results, and the
公示 (public disclosure) of a published one."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from admin.evaluations.metrics import METRICS
from admin.evaluations.models import Evaluation

MetricName = Literal[
    "earned_points",
    "penalty_points",
    "activities_attended",
    "duty_hours",
    "duty_attendance_rate",
    "micro_wishes_fulfilled",
    "reports_resolved",
    "feedback_score",
]
Band = Annotated[float, msgspec.Meta(ge=0, le=100)]


class WeightedMetric(msgspec.Struct):
    metric: MetricName
    weight: Annotated[float, msgspec.Meta(gt=0, le=1_000_000_000)]


class GradeBands(msgspec.Struct):
    """`by: score`: the lowest score of each grade. `by: share`: the % of the group down to each grade."""

    by: Literal["score", "share"] = "score"
    excellent: Band = 85
    qualified: Band = 60
    basically_qualified: Band = 40


class EvaluationCreate(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    org_unit_id: uuid.UUID
    target: Literal["all", "party_members", "in_service", "cadres"]
    period_start: date
    period_end: date
    metrics: Annotated[list[WeightedMetric], msgspec.Meta(min_length=1, max_length=len(METRICS))]
    top_n: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    cadre_position: Annotated[str, msgspec.Meta(min_length=1, max_length=50)] | None = None
    grade_bands: GradeBands | None = None


class EvaluationPatch(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")] | msgspec.UnsetType = msgspec.UNSET
    period_start: date | msgspec.UnsetType = msgspec.UNSET
    period_end: date | msgspec.UnsetType = msgspec.UNSET
    metrics: Annotated[list[WeightedMetric], msgspec.Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET
    top_n: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | msgspec.UnsetType = msgspec.UNSET
    grade_bands: GradeBands | msgspec.UnsetType = msgspec.UNSET


EvaluationStatus = Literal["draft", "computed", "published"]
Grade = Literal["excellent", "qualified", "basically_qualified", "unqualified"]


class EvaluationView(msgspec.Struct):
    id: uuid.UUID
    name: str
    status: EvaluationStatus
    org_unit_id: uuid.UUID
    target: Literal["all", "party_members", "in_service", "cadres"]
    cadre_position: str | None
    period_start: date
    period_end: date
    metrics: list[WeightedMetric]
    top_n: int
    grade_bands: GradeBands
    computed_at: datetime | None
    published_at: datetime | None


class EvaluationState(msgspec.Struct):
    id: uuid.UUID
    status: EvaluationStatus


class EvaluationRun(msgspec.Struct):
    id: uuid.UUID
    status: EvaluationStatus
    count: int
    # Weighed metrics that no records feed yet: they read 0 for everyone, and `note` says so.
    unsourced_metrics: list[str]
    note: str | msgspec.UnsetType = msgspec.UNSET


class ResultLine(msgspec.Struct):
    rank: int
    member_id: uuid.UUID
    name: str
    score: float
    grade: Grade
    top_n: bool
    metrics: dict[str, float]
    normalised: dict[str, float]


class Results(msgspec.Struct):
    id: uuid.UUID
    status: EvaluationStatus
    items: list[ResultLine]


class MetricShare(msgspec.Struct):
    metric: str
    label: str
    raw: float
    normalised: float
    weight: float
    contribution: float
    sourced: bool


class EarnedRecord(msgspec.Struct):
    transaction_id: uuid.UUID
    at: datetime
    date: date
    kind: str
    rule_code: str | None
    earned: int
    memo: str | None


class Breakdown(msgspec.Struct):
    """Why a member is where they are: each metric's share of the score, and the ledger lines behind it."""

    member_id: uuid.UUID
    name: str
    rank: int
    score: float
    grade: Grade
    top_n: bool
    metrics: list[MetricShare]
    records: list[EarnedRecord]


class DisclosedLine(msgspec.Struct):
    rank: int
    display_name: str
    score: float
    grade: Grade
    top_n: bool


class Disclosure(msgspec.Struct):
    """A published evaluation with names masked; before publication only its status and no lines."""

    id: uuid.UUID
    status: EvaluationStatus | msgspec.UnsetType = msgspec.UNSET
    name: str | msgspec.UnsetType = msgspec.UNSET
    period_start: date | msgspec.UnsetType = msgspec.UNSET
    period_end: date | msgspec.UnsetType = msgspec.UNSET
    items: list[DisclosedLine] = []


def evaluation_body(evaluation: Evaluation) -> EvaluationView:
    # Stored JSON is passed through as it was written, so numbers read back exactly as before.
    return EvaluationView(
        id=evaluation.id,
        name=evaluation.name,
        status=evaluation.status,
        org_unit_id=evaluation.org_unit_id,
        target=evaluation.target,
        cadre_position=evaluation.cadre_position,
        period_start=evaluation.period_start,
        period_end=evaluation.period_end,
        metrics=[WeightedMetric(**item) for item in evaluation.metrics],
        top_n=evaluation.top_n,
        grade_bands=GradeBands(**evaluation.grade_bands),
        computed_at=evaluation.computed_at,
        published_at=evaluation.published_at,
    )
