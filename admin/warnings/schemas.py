"""Early warnings as they go over the wire."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

import msgspec

from admin.warnings.service import Thresholds, WarningCheck


class ThresholdsPatch(msgspec.Struct):
    inactive_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    attendance_below: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    duty_days: Annotated[int, msgspec.Meta(ge=1, le=366)] | None = None


class ThresholdsView(msgspec.Struct):
    inactive_days: int
    attendance_below: float
    duty_days: int


class FoundItem(msgspec.Struct):
    """One row a check found: a member, a duty post or a reward, with the fields its check reads."""

    member_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    post_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    reward_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    name: str | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType = msgspec.UNSET
    org_unit: str | msgspec.UnsetType = msgspec.UNSET
    merchant: str | msgspec.UnsetType = msgspec.UNSET
    # Inactive members: the last day they earned points (null: never).
    last_earned: date | msgspec.UnsetType | None = msgspec.UNSET
    # Low duty attendance: shifts due and attended in the window, and their ratio.
    due: int | msgspec.UnsetType = msgspec.UNSET
    attended: int | msgspec.UnsetType = msgspec.UNSET
    rate: float | msgspec.UnsetType = msgspec.UNSET


class CheckView(msgspec.Struct):
    kind: str
    label: str
    available: bool
    count: int
    items: list[FoundItem]
    counts_per_unit: dict[str, int]


class WarningsView(msgspec.Struct):
    org_unit_id: uuid.UUID
    checks: list[CheckView]


class DailyRun(msgspec.Struct):
    """A stored run and the thresholds it ran with."""

    id: uuid.UUID
    run_date: date
    ran_at: datetime
    finished_at: datetime | None
    inactive_days: int
    attendance_below: float
    duty_days: int


class DailyWarningsView(msgspec.Struct):
    """The newest stored daily run; `run` is null and `checks` empty before the first run."""

    org_unit_id: uuid.UUID
    run: DailyRun | None
    checks: list[CheckView]


def checks_body(checks: list[WarningCheck]) -> list[CheckView]:
    return [
        CheckView(
            kind=check.kind,
            label=check.label,
            available=check.available,
            count=len(check.items),
            items=[msgspec.convert(item, FoundItem) for item in check.items],
            counts_per_unit=check.counts_per_unit,
        )
        for check in checks
    ]


def thresholds_body(thresholds: Thresholds) -> ThresholdsView:
    return ThresholdsView(thresholds.inactive_days, thresholds.attendance_below, thresholds.duty_days)
