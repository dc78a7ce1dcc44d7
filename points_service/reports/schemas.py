"""What goes over the wire for problem reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, cast

import msgspec

from points_service.activities.schemas import RuleCode
from points_service.ledger.service import Posted
from points_service.reports import models

Category = Literal["hazard", "dispute", "facility", "sanitation", "household_visit", "other"]
Status = Literal["submitted", "accepted", "resolved", "rejected"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]


class ReportCreate(msgspec.Struct):
    category: Category
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=r"\S")]
    description: Text
    member_id: uuid.UUID | None = None


class Accept(msgspec.Struct):
    """`rule_code`: the rule that pays the reporter for a useful report; absent, nobody is paid."""

    rule_code: RuleCode | None = None


class Escalate(msgspec.Struct):
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class Reject(msgspec.Struct):
    reason: Text


class Resolve(msgspec.Struct):
    resolution: Text
    rule_code: RuleCode | None = None
    # Who is credited with the resolution (a grid worker); absent: the reporter.
    member_id: uuid.UUID | None = None


EventAction = Literal["filed", "accepted", "escalated", "resolved", "rejected"]


class Report(msgspec.Struct):
    id: uuid.UUID
    # The member it is reported by (or for).
    member_id: uuid.UUID
    category: Category
    place: str
    description: str
    status: Status
    reported_unit_id: uuid.UUID
    # Where it is handled now: the reported unit, or an ancestor after escalation.
    handling_unit_id: uuid.UUID
    created_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    resolved_by_member_id: uuid.UUID | None


class ReportPage(msgspec.Struct):
    items: list[Report]
    next_cursor: str | None


class ReportEvent(msgspec.Struct):
    action: EventAction
    # The handling unit after the act.
    unit_id: uuid.UUID
    note: str | None
    transaction_id: uuid.UUID | None
    at: datetime


class ReportWithEvents(Report):
    """A report and how it travelled, oldest step first, with the names of its photos (each at
    `/api/v1/reports/{id}/photos/{name}`)."""

    events: list[ReportEvent]
    photos: list[str] = msgspec.field(default_factory=list)


class ReportPhotos(msgspec.Struct):
    """A report's photos after an upload, each at `/api/v1/reports/{report_id}/photos/{name}`."""

    report_id: uuid.UUID
    photos: list[str]


class ReportPaid(Report):
    """A report after an act that may pay someone: `points` 0 and `transaction_id` null when nobody was paid."""

    points: int
    transaction_id: uuid.UUID | None


class ReportStats(msgspec.Struct):
    org_unit_id: uuid.UUID
    first_day: date = msgspec.field(name="from")
    last_day: date = msgspec.field(name="to")
    collected: int
    handled: int
    in_progress: int
    rejected: int
    escalated: int
    disputes: int
    disputes_resolved: int
    # disputes_resolved / disputes, four decimals; null without disputes.
    dispute_resolution_rate: float | None
    # Reports collected per category.
    by_category: dict[str, int]


def report_fields(report: models.ProblemReport) -> dict[str, Any]:
    """A report's fields, for `Report` and the answers that extend it."""
    return {
        "id": report.id,
        "member_id": report.member_id,
        "category": report.category,
        "place": report.place,
        "description": report.description,
        "status": report.status,
        "reported_unit_id": report.reported_unit_id,
        "handling_unit_id": report.handling_unit_id,
        "created_at": report.created_at,
        "accepted_at": report.accepted_at,
        "resolved_at": report.resolved_at,
        "resolution": report.resolution,
        "resolved_by_member_id": report.resolved_by_member_id,
    }


def report_answer(report: models.ProblemReport) -> Report:
    return Report(**report_fields(report))


def event_answer(event: models.ReportEvent) -> ReportEvent:
    return ReportEvent(
        cast(EventAction, event.action), event.unit_id, event.note, event.transaction_id, event.created_at
    )


def report_paid(report: models.ProblemReport, posted: Posted | None) -> ReportPaid:
    return ReportPaid(
        **report_fields(report),
        points=posted.points if posted else 0,
        transaction_id=posted.transaction_id if posted else None,
    )
