from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.params import Parameter

from admin.evaluations.exports import results_csv, results_xlsx
from admin.evaluations.metrics import METRICS
from admin.evaluations.models import Evaluation
from admin.evaluations.service import DEFAULT_BANDS, EvaluationService
from points_service.org.names import mask_name

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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _fields(data: msgspec.Struct) -> dict[str, Any]:
    fields = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "metrics" in fields:
        fields["metrics"] = [msgspec.to_builtins(item) for item in fields["metrics"]]
    if "grade_bands" in fields:
        fields["grade_bands"] = (
            msgspec.to_builtins(fields["grade_bands"]) if fields["grade_bands"] else dict(DEFAULT_BANDS)
        )
    return fields


def evaluation_body(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "id": evaluation.id,
        "name": evaluation.name,
        "status": evaluation.status,
        "org_unit_id": evaluation.org_unit_id,
        "target": evaluation.target,
        "cadre_position": evaluation.cadre_position,
        "period_start": evaluation.period_start,
        "period_end": evaluation.period_end,
        "metrics": evaluation.metrics,
        "top_n": evaluation.top_n,
        "grade_bands": evaluation.grade_bands,
        "computed_at": evaluation.computed_at,
        "published_at": evaluation.published_at,
    }


class EvaluationController(Controller):
    path = "/evaluations"
    tags = ["admin: evaluations"]

    @post("/", summary="Define an evaluation scheme")
    async def create(self, data: EvaluationCreate, evaluations: EvaluationService) -> dict[str, Any]:
        fields = _fields(data)
        fields.setdefault("grade_bands", dict(DEFAULT_BANDS))
        return evaluation_body(await evaluations.create(fields))

    @get("/{evaluation_id:uuid}", summary="A scheme and its status")
    async def read(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> dict[str, Any]:
        return evaluation_body(await evaluations.get(evaluation_id))

    @patch("/{evaluation_id:uuid}", summary="Edit a scheme (not once published)")
    async def update(
        self, evaluation_id: uuid.UUID, data: EvaluationPatch, evaluations: EvaluationService
    ) -> dict[str, Any]:
        return evaluation_body(await evaluations.update(evaluation_id, _fields(data)))

    @post("/{evaluation_id:uuid}/run", status_code=200, summary="Compute every member's score, rank, grade")
    async def run(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> dict[str, Any]:
        evaluation, count, unsourced = await evaluations.run(evaluation_id)
        return {
            "id": evaluation.id,
            "status": evaluation.status,
            "count": count,
            "unsourced_metrics": unsourced,
            **({"note": "these metrics have no records yet and read 0 for everyone"} if unsourced else {}),
        }

    @post("/{evaluation_id:uuid}/publish", status_code=200, summary="Freeze the results for ever (admins)")
    async def publish(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> dict[str, Any]:
        evaluation = await evaluations.publish(evaluation_id)
        return {"id": evaluation.id, "status": evaluation.status}

    @get("/{evaluation_id:uuid}/results", summary="Results, best first: json, csv or xlsx")
    async def results(
        self,
        evaluation_id: uuid.UUID,
        evaluations: EvaluationService,
        format: Annotated[Literal["json", "csv", "xlsx"], Parameter(description="json, csv or xlsx")] = "json",
    ) -> Response[Any]:
        evaluation, rows = await evaluations.results(evaluation_id)
        filename = f"evaluation-{evaluation.id}"
        if format == "csv":
            return Response(
                results_csv(evaluation, rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
            )
        if format == "xlsx":
            return Response(
                results_xlsx(evaluation, rows),
                media_type=XLSX,
                headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
            )
        return Response(
            {
                "id": evaluation.id,
                "status": evaluation.status,
                "items": [
                    {
                        "rank": row.result.rank,
                        "member_id": row.result.member_id,
                        "name": row.name,
                        "score": float(row.result.score),
                        "grade": row.result.grade,
                        "top_n": row.result.top_n,
                        "metrics": row.result.raw,
                        "normalised": row.result.normalised,
                    }
                    for row in rows
                ],
            }
        )

    @get("/{evaluation_id:uuid}/results/{member_id:uuid}", summary="Why this member is where they are")
    async def breakdown(
        self, evaluation_id: uuid.UUID, member_id: uuid.UUID, evaluations: EvaluationService
    ) -> dict[str, Any]:
        return await evaluations.breakdown(evaluation_id, member_id)

    @get("/{evaluation_id:uuid}/disclosure", summary="公示: a published evaluation, names masked")
    async def disclosure(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> dict[str, Any]:
        evaluation, rows = await evaluations.results(evaluation_id)
        if evaluation.status != "published":
            return {"id": evaluation.id, "status": evaluation.status, "items": []}
        return {
            "id": evaluation.id,
            "name": evaluation.name,
            "period_start": evaluation.period_start,
            "period_end": evaluation.period_end,
            "items": [
                {
                    "rank": row.result.rank,
                    "display_name": mask_name(row.name),
                    "score": float(row.result.score),
                    "grade": row.result.grade,
                    "top_n": row.result.top_n,
                }
                for row in rows
            ],
        }
