"""The evaluations' SQL: each member's raw metric values over the whole group at once, the stored
results of a run, and the ledger lines behind a member's earned points."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.models import Evaluation, EvaluationResult
from points_service.duty.shifts import CHECK_OUT_GRACE, SHIFT_DUE_SQL

# A run's rows travel column by column, each column as one array (see `replace_results`).
RESULT_COLUMNS = (
    "member_id",
    "position",
    "rank",
    "score",
    "grade",
    "top_n",
    "raw",
    "normalised",
    "org_unit_id",
    "cadre_position",
)


class EvaluationRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id

    async def clear_results(self, evaluation_id: uuid.UUID) -> None:
        await self._session.execute(
            delete(EvaluationResult).where(
                EvaluationResult.tenant_id == self._tenant_id, EvaluationResult.evaluation_id == evaluation_id
            )
        )

    async def replace_results(self, evaluation_id: uuid.UUID, rows: dict[str, list[Any]]) -> None:
        """The run's rows (`RESULT_COLUMNS`, one list each) in place of the previous run's."""
        await self.clear_results(evaluation_id)
        if rows["member_id"]:
            # One statement for the whole group: each column travels as one array.
            await self._session.execute(
                text("""INSERT INTO evaluation_results
                            (tenant_id, evaluation_id, member_id, position, rank, score, grade, top_n, raw, normalised,
                             org_unit_id, cadre_position)
                        SELECT CAST(:tenant AS uuid), CAST(:evaluation AS uuid), r.member_id, r.position, r.rank,
                               r.score, r.grade, r.top_n, CAST(r.raw AS jsonb), CAST(r.normalised AS jsonb),
                               r.org_unit_id, r.cadre_position
                          FROM unnest(CAST(:member_id AS uuid[]), CAST(:position AS integer[]),
                                      CAST(:rank AS integer[]), CAST(:score AS numeric[]), CAST(:grade AS text[]),
                                      CAST(:top_n AS boolean[]), CAST(:raw AS text[]), CAST(:normalised AS text[]),
                                      CAST(:org_unit_id AS uuid[]), CAST(:cadre_position AS text[]))
                               AS r(member_id, position, rank, score, grade, top_n, raw, normalised,
                                    org_unit_id, cadre_position)"""),
                {"tenant": self._tenant_id, "evaluation": evaluation_id, **rows},
            )

    async def earned_records(self, member_id: uuid.UUID, start: date, end: date) -> Sequence[Row[Any]]:
        """The member's transactions that changed their earned points between `start` and `end`."""
        result = await self._session.execute(
            text("""SELECT t.id, t.created_at, t.local_date, t.kind, t.rule_code, t.earned_delta, t.memo
                      FROM ledger_transactions t
                     WHERE t.tenant_id = :tenant AND t.member_id = :member AND t.earned_delta <> 0
                       AND t.local_date BETWEEN :start AND :end
                     ORDER BY t.created_at, t.id"""),
            {
                "tenant": self._tenant_id,
                "member": member_id,
                "start": start,
                "end": end,
            },
        )
        return result.all()

    async def raw_values(
        self, evaluation: Evaluation, path: str
    ) -> tuple[dict[uuid.UUID, tuple[Any, ...]], dict[uuid.UUID, tuple[uuid.UUID, str | None]]]:
        """Every member of the group with the raw value of each metric (in METRICS order), and each
        member's unit and cadre position, from one set-based query: each metric is aggregated over the
        whole group at once.

        earned_points / penalty_points: earned points in the period, and the penalties among them
        (a reversed penalty counts back). activities_attended: confirmed attendances of activities
        starting in the period (tenant's days). feedback_score: the mean rating (1-5) received in the
        period, None for a member nobody rated (no value: left out of the metric). duty_hours: verified
        hours of shifts starting in the period; duty_attendance_rate: shifts attended / shifts due (a
        shift is due once attended or over: future shifts count against nobody; a member with no shift
        due reads 0).
        micro_wishes_fulfilled: wishes verified in the period that the member fulfilled;
        reports_resolved: reports resolved in the period that credit the member (the reporter,
        unless staff credited someone else)."""
        condition = {
            "all": "TRUE",
            "party_members": "m.party_status <> 'none'",
            "in_service": "m.party_status = 'in_service'",
            "cadres": "m.cadre_position IS NOT NULL"
            " AND (CAST(:position AS text) IS NULL OR m.cadre_position = :position)"
            " AND (CAST(:positions AS text[]) IS NULL OR m.cadre_position = ANY(CAST(:positions AS text[])))",
        }[evaluation.target]
        rows = await self._session.execute(
            text(f"""
                WITH grp AS (
                    SELECT m.id, m.org_unit_id, m.cadre_position FROM members m
                      JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
                     WHERE m.tenant_id = :tenant AND starts_with(u.path, :path) AND m.active AND {condition}),
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
                SELECT grp.id, grp.org_unit_id, grp.cadre_position, e.earned, e.penalties, a.attended,
                       sh.due, sh.attended, sh.hours,
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
                "positions": evaluation.cadre_positions if evaluation.target == "cadres" else None,
                "start": evaluation.period_start,
                "end": evaluation.period_end,
                "grace": CHECK_OUT_GRACE,
            },
        )
        # Each value has the type it always had: an int where nothing was found, so that the stored
        # raw values (and the exports that print them) read the same.
        values: dict[uuid.UUID, tuple[Any, ...]] = {}
        placement: dict[uuid.UUID, tuple[uuid.UUID, str | None]] = {}
        for (
            member_id,
            unit_id,
            position,
            earned,
            penalties,
            attended,
            due,
            shifts_attended,
            hours,
            fulfilled,
            resolved,
            rating,
        ) in rows:
            placement[member_id] = (unit_id, position)
            values[member_id] = (
                int(earned or 0),
                int(penalties or 0),
                int(attended or 0),
                float(hours) if due else 0,
                round(shifts_attended / due, 4) if due else 0,
                int(fulfilled or 0),
                int(resolved or 0),
                float(rating) if rating is not None else None,
            )
        return values, placement
