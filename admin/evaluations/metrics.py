"""What an evaluation can weigh, where each value comes from, and which way is better.

Normalisation: each metric becomes its mid-rank percentile within the evaluated group,
100 × (members below + ½ × members equal) / group size. Percentiles make scales that differ by orders
of magnitude (points in the thousands, attendance rates below 1) addable, are not dragged by one
outlier the way min-max scaling is, and give equal values equal normalised values. For a metric where
less is better (penalty points) the percentile is taken the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

Key = TypeVar("Key")


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    higher_is_better: bool
    sourced: bool  # False: the records it needs do not exist yet (the earning issue); it reads 0


METRICS = {
    metric.name: metric
    for metric in (
        Metric("earned_points", "获得积分", True, True),
        Metric("penalty_points", "扣分", False, True),
        Metric("activities_attended", "参加活动次数", True, True),
        Metric("duty_hours", "值守时长", True, True),
        Metric("duty_attendance_rate", "值守出勤率", True, True),
        Metric("micro_wishes_fulfilled", "完成微心愿", True, True),
        Metric("reports_resolved", "民情办结", True, True),
        Metric("feedback_score", "服务评价", True, True),
    )
}


def percentiles(values: dict[Key, float], higher_is_better: bool) -> dict[Key, float]:
    """Mid-rank percentile of each value within all values (0-100)."""
    count = len(values)
    if count == 0:
        return {}
    ordered = sorted(values.values())
    below: dict[float, int] = {}
    equal: dict[float, int] = {}
    for index, value in enumerate(ordered):
        below.setdefault(value, index)
        equal[value] = equal.get(value, 0) + 1
    result = {}
    for key, value in values.items():
        percentile = 100 * (below[value] + 0.5 * equal[value]) / count
        result[key] = percentile if higher_is_better else 100 - percentile
    return result
