from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.params import Parameter

from admin.evaluations.exports import results_csv, results_xlsx
from admin.evaluations.models import Evaluation
from admin.evaluations.schemas import (
    Breakdown,
    DisclosedLine,
    Disclosure,
    EvaluationCreate,
    EvaluationPatch,
    EvaluationRun,
    EvaluationState,
    EvaluationView,
    ExcludedMetric,
    ResultLine,
    Results,
    evaluation_body,
)
from admin.evaluations.service import DEFAULT_BANDS, EvaluationService
from points_service.exports import CSV, XLSX, download_headers, json_or_files
from points_service.org.names import mask_name


def _fields(data: msgspec.Struct) -> dict[str, Any]:
    fields = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "metrics" in fields:
        fields["metrics"] = [msgspec.to_builtins(item) for item in fields["metrics"]]
    if "grade_bands" in fields:
        fields["grade_bands"] = (
            msgspec.to_builtins(fields["grade_bands"]) if fields["grade_bands"] else dict(DEFAULT_BANDS)
        )
    return fields


def excluded_of(evaluation: Evaluation) -> list[ExcludedMetric]:
    return [msgspec.convert(item, ExcludedMetric) for item in evaluation.excluded_metrics]


class EvaluationController(Controller):
    path = "/evaluations"
    tags = ["admin: evaluations"]

    @post("/", summary="Define an evaluation scheme")
    async def create(self, data: EvaluationCreate, evaluations: EvaluationService) -> EvaluationView:
        fields = _fields(data)
        fields.setdefault("grade_bands", dict(DEFAULT_BANDS))
        return evaluation_body(await evaluations.create(fields))

    @get("/{evaluation_id:uuid}", summary="A scheme and its status")
    async def read(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> EvaluationView:
        return evaluation_body(await evaluations.get(evaluation_id))

    @patch("/{evaluation_id:uuid}", summary="Edit a scheme (not once published)")
    async def update(
        self, evaluation_id: uuid.UUID, data: EvaluationPatch, evaluations: EvaluationService
    ) -> EvaluationView:
        return evaluation_body(await evaluations.update(evaluation_id, _fields(data)))

    @post("/{evaluation_id:uuid}/run", status_code=200, summary="Compute every member's score, rank, grade")
    async def run(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> EvaluationRun:
        evaluation, count, unsourced = await evaluations.run(evaluation_id)
        return EvaluationRun(
            id=evaluation.id,
            status=evaluation.status,
            count=count,
            unsourced_metrics=unsourced,
            excluded_metrics=excluded_of(evaluation),
            note="these metrics have no records yet and read 0 for everyone" if unsourced else msgspec.UNSET,
        )

    @post("/{evaluation_id:uuid}/publish", status_code=200, summary="Freeze the results for ever (admins)")
    async def publish(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> EvaluationState:
        evaluation = await evaluations.publish(evaluation_id)
        return EvaluationState(evaluation.id, evaluation.status)

    @get(
        "/{evaluation_id:uuid}/results",
        summary="Results, best first: json, csv or xlsx",
        operation_class=json_or_files(CSV, XLSX),
    )
    async def results(
        self,
        evaluation_id: uuid.UUID,
        evaluations: EvaluationService,
        format: Annotated[Literal["json", "csv", "xlsx"], Parameter(description="json, csv or xlsx")] = "json",
    ) -> Response[Results | bytes]:
        evaluation, rows = await evaluations.results(evaluation_id)
        filename = f"evaluation-{evaluation.id}"
        if format == "csv":
            csv = results_csv(evaluation, rows).encode()
            return Response(csv, media_type=CSV, headers=download_headers(f"{filename}.csv"))
        if format == "xlsx":
            xlsx = results_xlsx(evaluation, rows)
            return Response(xlsx, media_type=XLSX, headers=download_headers(f"{filename}.xlsx"))
        lines = [
            ResultLine(
                rank=row.result.rank,
                member_id=row.result.member_id,
                name=row.name,
                score=float(row.result.score),
                grade=row.result.grade,
                top_n=row.result.top_n,
                metrics=row.result.raw,
                normalised=row.result.normalised,
                org_unit_id=row.result.org_unit_id,
                unit=row.unit,
                position=row.result.cadre_position,
            )
            for row in rows
        ]
        return Response(Results(evaluation.id, evaluation.status, lines, excluded_of(evaluation)))

    @get("/{evaluation_id:uuid}/results/{member_id:uuid}", summary="Why this member is where they are")
    async def breakdown(
        self, evaluation_id: uuid.UUID, member_id: uuid.UUID, evaluations: EvaluationService
    ) -> Breakdown:
        return await evaluations.breakdown(evaluation_id, member_id)

    @get("/{evaluation_id:uuid}/disclosure", summary="公示: a published evaluation, names masked")
    async def disclosure(self, evaluation_id: uuid.UUID, evaluations: EvaluationService) -> Disclosure:
        evaluation, rows = await evaluations.results(evaluation_id)
        if evaluation.status != "published":
            return Disclosure(evaluation.id, status=evaluation.status, items=[])
        return Disclosure(
            evaluation.id,
            name=evaluation.name,
            period_start=evaluation.period_start,
            period_end=evaluation.period_end,
            items=[
                DisclosedLine(
                    rank=row.result.rank,
                    display_name=mask_name(row.name),
                    score=float(row.result.score),
                    grade=row.result.grade,
                    top_n=row.result.top_n,
                )
                for row in rows
            ],
        )
