"""The rules of a shift's time: when check-in opens and check-out closes, how verified time is counted
in quarter hours, how a weekly schedule becomes shift windows in the tenant's local time, when a shift
is missed, and the attendance counts evaluations and warnings read.

Missed shifts are not written by a sweep: a shift whose end (plus a grace period) has passed without a
check-in *is* missed, so the attendance rate evaluations read is right at any moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.duty.models import Shift
from points_service.errors import DomainError, InvalidInput
from points_service.tenancy.periods import TenantClock

CHECK_IN_OPENS_BEFORE = timedelta(minutes=20)
# A holder may check out this long after the shift's end; later, staff check them out (verification).
CHECK_OUT_GRACE = timedelta(minutes=30)
MAX_SHIFT = timedelta(hours=12)
MAX_WEEKS = 26
# Paid time is counted in quarter hours, rounded down: ten minutes late costs a quarter, not a point.
QUARTER_HOUR = Decimal("0.25")


class NotHolder(DomainError):
    code = "not_holder"
    title = "Shifts are for the post's approved holders"


class OutsideShiftWindow(DomainError):
    code = "outside_shift_window"
    title = "Check-in for this shift is not open now"


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"
    title = "Already checked in to this shift"


class NotCheckedIn(DomainError):
    code = "not_checked_in"
    title = "Check in before checking out"


class AlreadyCheckedOut(DomainError):
    code = "already_checked_out"
    title = "This shift is already checked out (and paid once)"


# When a shift counts for the attendance rate: attended, or over (with the check-out grace) unattended.
# As SQL over a `shifts s` alias with a `:grace` parameter, for the evaluation and warning queries.
SHIFT_DUE_SQL = "(s.checked_in_at IS NOT NULL OR s.ends_at + :grace < now())"


def shift_status(shift: Shift, now: datetime) -> str:
    if shift.checked_out_at is not None:
        return "completed"
    if shift.checked_in_at is not None:
        return "on_duty"
    if shift.ends_at + CHECK_OUT_GRACE < now:
        return "missed"
    return "scheduled"


def verified_hours(shift: Shift) -> Decimal:
    """The overlap of checked-in time with the scheduled time, in whole quarter hours."""
    assert shift.checked_in_at is not None and shift.checked_out_at is not None
    start = max(shift.checked_in_at, shift.starts_at)
    end = min(shift.checked_out_at, shift.ends_at)
    seconds = max((end - start).total_seconds(), 0)
    hours = Decimal(seconds) / Decimal(3600)
    return (hours / QUARTER_HOUR).to_integral_value(rounding=ROUND_DOWN) * QUARTER_HOUR


@dataclass(frozen=True)
class WeeklySchedule:
    weekday: int  # ISO: 1 Monday … 7 Sunday
    start: time
    end: time
    first_day: date
    weeks: int


def weekly_windows(schedule: WeeklySchedule, clock: TenantClock) -> list[tuple[datetime, datetime]]:
    """The shift windows of a weekly schedule, in the tenant's local time (so 9:00 stays 9:00)."""
    if schedule.end <= schedule.start:
        raise InvalidInput("end_time", "must be after start_time")
    if not 1 <= schedule.weeks <= MAX_WEEKS:
        raise InvalidInput("weeks", f"must be 1 to {MAX_WEEKS}")
    first = schedule.first_day + timedelta(days=(schedule.weekday - schedule.first_day.isoweekday()) % 7)
    windows = []
    for week in range(schedule.weeks):
        day = first + timedelta(weeks=week)
        windows.append(
            (
                datetime.combine(day, schedule.start, clock.zone).astimezone(UTC),
                datetime.combine(day, schedule.end, clock.zone).astimezone(UTC),
            )
        )
    return windows


@dataclass(frozen=True)
class CheckOut:
    shift: Shift
    points: int
    balance: int | None


async def duty_attendance(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[uuid.UUID, tuple[int, int, Decimal]]:
    due = or_(Shift.checked_in_at.is_not(None), Shift.ends_at + CHECK_OUT_GRACE < now)
    rows = await session.execute(
        select(
            Shift.member_id,
            func.count(),
            func.count(Shift.checked_in_at),
            func.coalesce(func.sum(Shift.hours), 0),
        )
        .where(Shift.tenant_id == tenant_id, Shift.member_id.in_(member_ids))
        .where(and_(Shift.starts_at >= start, Shift.starts_at < end), due)
        .group_by(Shift.member_id)
    )
    return {member_id: (int(total), int(attended), Decimal(hours)) for member_id, total, attended, hours in rows}
