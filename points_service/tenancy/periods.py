"""Calendar periods in the tenant's time zone (docs/api.md, "Conventions": days, months and years are tenant-local)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class TenantClock:
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: datetime | None = None) -> date:
        return (now or datetime.now(UTC)).astimezone(self.zone).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def year_start(day: date) -> date:
    return day.replace(month=1, day=1)


def quarter_start(day: date) -> date:
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def period_start(day: date, period: str) -> date:
    """The first day of the calendar month, quarter or year holding `day`."""
    starts = {"month": month_start, "quarter": quarter_start, "year": year_start}
    return starts[period](day)
