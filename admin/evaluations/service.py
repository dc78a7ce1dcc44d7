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

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.metrics import METRICS, percentiles
from admin.evaluations.models import Evaluation, EvaluationResult
from admin.evaluations.schemas import Breakdown, EarnedRecord, MetricShare
from points_service.auth.principal import Principal
from points_service.duty.shifts import CHECK_OUT_GRACE, SHIFT_DUE_SQL
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


RESULT_COLUMNS = ("member_id", "position", "rank", "score", "grade", "top_n", "raw", "normalised")


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
        await self._session.execute(
            delete(EvaluationResult).where(
                EvaluationResult.tenant_id == self._tenant_id, EvaluationResult.evaluation_id == evaluation.id
            )
        )
        await self._session.flush()
        return evaluation

    async def run(self, evaluation_id: uuid.UUID) -> tuple[Evaluation, int, list[str]]:
        evaluation = await self.get(evaluation_id, for_update=True)
        if evaluation.status == "published":
            raise Published()
        unit = await self._org.unit_in_reach(evaluation.org_unit_id)
        raw = await self._raw_values(evaluation, unit.path)
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
        await self._session.execute(
            delete(EvaluationResult).where(
                EvaluationResult.tenant_id == self._tenant_id, EvaluationResult.evaluation_id == evaluation.id
            )
        )
        if group:
            # One statement for the whole group: each column travels as one array.
            await self._session.execute(
                text("""INSERT INTO evaluation_results
                            (tenant_id, evaluation_id, member_id, position, rank, score, grade, top_n, raw, normalised)
                        SELECT CAST(:tenant AS uuid), CAST(:evaluation AS uuid), r.member_id, r.position, r.rank,
                               r.score, r.grade, r.top_n, CAST(r.raw AS jsonb), CAST(r.normalised AS jsonb)
                          FROM unnest(CAST(:member_id AS uuid[]), CAST(:position AS integer[]),
                                      CAST(:rank AS integer[]), CAST(:score AS numeric[]), CAST(:grade AS text[]),
                                      CAST(:top_n AS boolean[]), CAST(:raw AS text[]), CAST(:normalised AS text[]))
                               AS r(member_id, position, rank, score, grade, top_n, raw, normalised)"""),
                {"tenant": self._tenant_id, "evaluation": evaluation.id, **rows},
            )
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
        records = await self._session.execute(
            text("""SELECT t.id, t.created_at, t.local_date, t.kind, t.rule_code, t.earned_delta, t.memo
                      FROM ledger_transactions t
                     WHERE t.tenant_id = :tenant AND t.member_id = :member AND t.earned_delta <> 0
                       AND t.local_date BETWEEN :start AND :end
                     ORDER BY t.created_at, t.id"""),
            {
                "tenant": self._tenant_id,
                "member": member_id,
                "start": evaluation.period_start,
                "end": evaluation.period_end,
            },
        )
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

    async def _raw_values(self, evaluation: Evaluation, path: str) -> dict[uuid.UUID, tuple[Any, ...]]:
        """Every member of the group with the raw value of each metric (in METRICS order), from one
        set-based query: each metric is aggregated over the whole group at once.

        earned_points / penalty_points: earned points in the period, and the penalties among them
        (a reversed penalty counts back). activities_attended: confirmed attendances of activities
        starting in the period (tenant's days). feedback_score: the mean rating (1-5) received in the
        period, 0 for a member nobody rated. duty_hours: verified hours of shifts starting in the
        period; duty_attendance_rate: shifts attended / shifts due (a shift is due once attended or
        over: future shifts count against nobody; a member with no shift due reads 0).
        micro_wishes_fulfilled: wishes verified in the period that the member fulfilled;
        reports_resolved: reports resolved in the period that credit the member (the reporter,
        unless staff credited someone else)."""
        condition = {
            "all": "TRUE",
            "party_members": "m.party_status <> 'none'",
            "in_service": "m.party_status = 'in_service'",
            "cadres": "m.cadre_position IS NOT NULL"
            " AND (CAST(:position AS text) IS NULL OR m.cadre_position = :position)",
        }[evaluation.target]
        rows = await self._session.execute(
            text(f"""
                WITH grp AS (
                    SELECT m.id FROM members m
                      JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                     WHERE m.tenant_id = :tenant AND starts_with(u.path, :path) AND {condition}),
                earned AS (
                    SELECT t.member_id,
                           sum(t.earned_delta) AS earned,
                           -sum(t.earned_delta) FILTER (
                               WHERE CASE WHEN t.kind = 'penalty' THEN TRUE
                                          WHEN t.reverses_id IS NULL THEN FALSE
                                          ELSE (SELECT o.kind FROM ledger_transactions o
                                                 WHERE o.tenant_id = t.tenant_id AND o.id = t.reverses_id) = 'penalty'
                                     END) AS penalties
                      FROM ledger_transactions t JOIN grp ON grp.id = t.member_id
                     WHERE t.tenant_id = :tenant AND t.earned_delta <> 0
                       AND t.local_date BETWEEN :start AND :end
                     GROUP BY t.member_id),
                attended AS (
                    SELECT s.member_id, count(*) AS attended FROM activity_signups s
                      JOIN grp ON grp.id = s.member_id
                      JOIN activities a ON a.tenant_id = s.tenant_id AND a.id = s.activity_id
                      JOIN tenants t ON t.id = a.tenant_id
                     WHERE s.tenant_id = :tenant AND s.attended
                       AND (a.starts_at AT TIME ZONE t.timezone)::date BETWEEN :start AND :end
                     GROUP BY s.member_id),
                ratings AS (
                    SELECT f.member_id, round(avg(f.rating), 2) AS rating FROM feedback f
                      JOIN grp ON grp.id = f.member_id
                      JOIN tenants t ON t.id = f.tenant_id
                     WHERE f.tenant_id = :tenant
                       AND (f.created_at AT TIME ZONE t.timezone)::date BETWEEN :start AND :end
                     GROUP BY f.member_id),
                shifts AS (
                    SELECT s.member_id, count(*) AS due, count(s.checked_in_at) AS attended,
                           coalesce(sum(s.hours), 0) AS hours
                      FROM shifts s JOIN grp ON grp.id = s.member_id JOIN tenants t ON t.id = s.tenant_id
                     WHERE s.tenant_id = :tenant
                       AND (s.starts_at AT TIME ZONE t.timezone)::date BETWEEN :start AND :end
                       AND {SHIFT_DUE_SQL}
                     GROUP BY s.member_id),
                wishes AS (
                    SELECT w.claimed_by AS member_id, count(*) AS fulfilled FROM wishes w
                      JOIN grp ON grp.id = w.claimed_by JOIN tenants t ON t.id = w.tenant_id
                     WHERE w.tenant_id = :tenant AND w.status = 'verified'
                       AND (w.verified_at AT TIME ZONE t.timezone)::date BETWEEN :start AND :end
                     GROUP BY w.claimed_by),
                reports AS (
                    SELECT r.resolved_by_member_id AS member_id, count(*) AS resolved FROM problem_reports r
                      JOIN grp ON grp.id = r.resolved_by_member_id JOIN tenants t ON t.id = r.tenant_id
                     WHERE r.tenant_id = :tenant AND r.status = 'resolved'
                       AND (r.resolved_at AT TIME ZONE t.timezone)::date BETWEEN :start AND :end
                     GROUP BY r.resolved_by_member_id)
                SELECT grp.id, e.earned, e.penalties, a.attended, sh.due, sh.attended, sh.hours,
                       w.fulfilled, rp.resolved, rt.rating
                  FROM grp
                  LEFT JOIN earned e ON e.member_id = grp.id
                  LEFT JOIN attended a ON a.member_id = grp.id
                  LEFT JOIN shifts sh ON sh.member_id = grp.id
                  LEFT JOIN wishes w ON w.member_id = grp.id
                  LEFT JOIN reports rp ON rp.member_id = grp.id
                  LEFT JOIN ratings rt ON rt.member_id = grp.id"""),  # noqa: S608
            {
                "tenant": self._tenant_id,
                "path": path,
                "position": evaluation.cadre_position,
                "start": evaluation.period_start,
                "end": evaluation.period_end,
                "grace": CHECK_OUT_GRACE,
            },
        )
        # Each value has the type it always had: an int where nothing was found, so that the stored
        # raw values (and the exports that print them) read the same.
        return {
            member_id: (
                int(earned or 0),
                int(penalties or 0),
                int(attended or 0),
                float(hours) if due else 0,
                round(shifts_attended / due, 4) if due else 0,
                int(fulfilled or 0),
                int(resolved or 0),
                float(rating) if rating is not None else 0,
            )
            for member_id, earned, penalties, attended, due, shifts_attended, hours, fulfilled, resolved, rating in rows
        }
