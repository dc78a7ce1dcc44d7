"""What an evaluation can weigh, where each value comes from, which way is better, and the two ways
a raw value becomes a 0-100 score within the group.

share_of_best (the default): 100 × value ÷ the group's best value (for penalties, 100 × (1 − value ÷ the
group's worst)). It keeps distances: in a small group the last is not at 0 because someone has to be
last, and a group where everyone did well can all be graded excellent.

percentile (as evaluations were first computed): the mid-rank percentile within the group,
100 × (members below + ½ × members equal) / group size, taken the other way round where less is better.
It grades by rank, so it suits large groups whose scales differ by orders of magnitude.

A member with no value (nobody rated them) is left out of the metric, not counted as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeVar

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


Normalisation = Literal["share_of_best", "percentile"]
NORMALISATIONS = ("share_of_best", "percentile")


def shares_of_best(values: dict[Key, float], higher_is_better: bool) -> dict[Key, float] | None:
    """Each value as a share of the group's best (0-100); None when the best (for penalties: the worst)
    is not above 0, so the metric says nothing about anyone."""
    if not values:
        return None
    top = max(values.values())
    if top <= 0:
        return None
    if higher_is_better:
        return {key: max(0.0, 100 * value / top) for key, value in values.items()}
    return {key: max(0.0, 100 * (1 - value / top)) for key, value in values.items()}


def normalise(values: dict[Key, float | None], higher_is_better: bool, how: str) -> dict[Key, float] | None:
    """The normalised values of the members that have one; None when the metric is left out of the score
    (no member has a value, or, sharing out the best, every value is the same)."""
    present = {key: float(value) for key, value in values.items() if value is not None}
    if not present:
        return None
    if how == "percentile":
        return percentiles(present, higher_is_better)
    if len(set(present.values())) == 1:
        return None
    return shares_of_best(present, higher_is_better)


def excellent_cap(share: Decimal | float | None, count: int) -> int | None:
    """How many of a group of `count` may be graded excellent (rounded down), or None for no cap."""
    if share is None:
        return None
    return int(Decimal(str(share)) * count)
