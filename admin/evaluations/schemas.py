"""Evaluations as they go over the wire: the scheme staff define, its runs and results, and the
公示 (public disclosure) of a published one."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from admin.evaluations.metrics import METRICS, Normalisation
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
ExcellentShare = Annotated[float, msgspec.Meta(gt=0, le=1)]
Positions = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=50)]], msgspec.Meta(min_length=1, max_length=50)
]


class WeightedMetric(msgspec.Struct):
    metric: MetricName
    weight: Annotated[float, msgspec.Meta(gt=0, le=1_000_000_000)]


class GradeBands(msgspec.Struct):
    """The lowest score of each grade; below the last is `unqualified`. Grades come from the score alone."""

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
    normalisation: Normalisation = "share_of_best"
    max_excellent_share: ExcellentShare | None = None
    # Cadres only: the positions evaluated together (the `cadre_position` values members hold).
    cadre_positions: Positions | None = None


class EvaluationPatch(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")] | msgspec.UnsetType = msgspec.UNSET
    period_start: date | msgspec.UnsetType = msgspec.UNSET
    period_end: date | msgspec.UnsetType = msgspec.UNSET
    metrics: Annotated[list[WeightedMetric], msgspec.Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET
    top_n: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | msgspec.UnsetType = msgspec.UNSET
    grade_bands: GradeBands | msgspec.UnsetType = msgspec.UNSET
    normalisation: Normalisation | msgspec.UnsetType = msgspec.UNSET
    max_excellent_share: ExcellentShare | msgspec.UnsetType | None = msgspec.UNSET
    cadre_positions: Positions | msgspec.UnsetType | None = msgspec.UNSET


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
    normalisation: Normalisation
    max_excellent_share: float | None
    cadre_positions: list[str] | None
    computed_at: datetime | None
    published_at: datetime | None


class EvaluationState(msgspec.Struct):
    id: uuid.UUID
    status: EvaluationStatus


class ExcludedMetric(msgspec.Struct):
    """A weighed metric left out of every score: `no_variance` = every member had the same value, or
    none had one, so it said nothing about anyone; the other weights were divided by their sum."""

    metric: MetricName
    reason: Literal["no_variance"]


class EvaluationRun(msgspec.Struct):
    id: uuid.UUID
    status: EvaluationStatus
    count: int
    # Weighed metrics that no records feed yet: they read 0 for everyone, and `note` says so.
    unsourced_metrics: list[str]
    excluded_metrics: list[ExcludedMetric]
    note: str | msgspec.UnsetType = msgspec.UNSET


class ResultLine(msgspec.Struct):
    rank: int
    member_id: uuid.UUID
    name: str
    score: float
    grade: Grade
    top_n: bool
    # Raw values; null where the member has none (nobody rated them): left out of that metric only.
    metrics: dict[str, float | None]
    normalised: dict[str, float]
    org_unit_id: uuid.UUID | None
    unit: str | None
    position: str | None


class Results(msgspec.Struct):
    id: uuid.UUID
    status: EvaluationStatus
    items: list[ResultLine]
    excluded_metrics: list[ExcludedMetric]


class MetricShare(msgspec.Struct):
    metric: str
    label: str
    raw: float | None
    normalised: float | None
    weight: float
    contribution: float
    sourced: bool
    # False when the metric did not count for this member: left out for everyone (`no_variance`) or
    # the member had no value (`no_value`); its weight went to the member's other metrics.
    counted: bool
    left_out: Literal["no_variance", "no_value"] | None


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
    unit: str | None
    position: str | None
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


BANDED = ("excellent", "qualified", "basically_qualified")


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
        grade_bands=GradeBands(**{grade: evaluation.grade_bands[grade] for grade in BANDED}),
        normalisation=evaluation.normalisation,  # type: ignore[arg-type]
        max_excellent_share=(
            float(evaluation.max_excellent_share) if evaluation.max_excellent_share is not None else None
        ),
        cadre_positions=evaluation.cadre_positions,
        computed_at=evaluation.computed_at,
        published_at=evaluation.published_at,
    )


class MyEvaluationOf(msgspec.Struct):
    id: uuid.UUID
    name: str
    period_start: date
    period_end: date


class MyEvaluation(msgspec.Struct):
    """One published evaluation the member is in: where they stand, of how many, and the raw values."""

    evaluation: MyEvaluationOf
    rank: int
    of: int
    score: float
    grade: Grade
    metrics: dict[str, float | None]


class MyEvaluations(msgspec.Struct):
    items: list[MyEvaluation]


class PublicResult(msgspec.Struct):
    rank: int
    display_name: str
    grade: Grade
    score: float


class PublicEvaluation(msgspec.Struct):
    id: uuid.UUID
    name: str
    period_start: date
    period_end: date
    published_at: datetime
    results: list[PublicResult]


class PublicEvaluations(msgspec.Struct):
    """A unit's published evaluations, names masked (公示)."""

    items: list[PublicEvaluation]


class PublicSeal(msgspec.Struct):
    """The daily seal of the unit's tenant: a hash over that day's ledger transactions, chained to nothing
    but printed beside the previous sealed day's, so a printed sheet can be checked later."""

    date: date
    digest: str
    previous_digest: str | None
    transactions: int
