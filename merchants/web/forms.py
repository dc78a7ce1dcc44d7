"""The reward form: what a clerk typed -> the fields RewardService takes, validated by the same schema
as the JSON API (merchants.schemas.RewardCreate), so the page and the API accept the same rewards."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from merchants.rewards.models import Reward
from merchants.schemas import RewardCreate, sent_fields

FIELDS = (
    "title",
    "description",
    "points_price",
    "stock",
    "per_member_limit",
    "limit_period",
    "valid_until",
    "redemption_window_hours",
)
_OPTIONAL_NUMBERS = ("stock", "per_member_limit")
_FIELD_IN_ERROR = re.compile(r"at `\$\.([a-z_]+)`")
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


@dataclass
class RewardForm:
    values: dict[str, str]
    fields: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def blank_form() -> RewardForm:
    return RewardForm(values={"redemption_window_hours": "72"})


def form_of(reward: Reward, timezone: str) -> RewardForm:
    valid_until = reward.valid_until.astimezone(ZoneInfo(timezone)).strftime(LOCAL_MINUTE) if reward.valid_until else ""
    return RewardForm(
        values={
            "title": reward.title,
            "description": reward.description,
            "points_price": str(reward.points_price),
            "stock": "" if reward.stock is None else str(reward.stock),
            "per_member_limit": "" if reward.per_member_limit is None else str(reward.per_member_limit),
            "limit_period": reward.limit_period or "",
            "valid_until": valid_until,
            "redemption_window_hours": str(reward.redemption_window_hours),
        }
    )


def read_reward_form(posted: dict[str, Any], timezone: str) -> RewardForm:
    """Every field of the form; an empty optional field means "none" (unlimited, no end)."""
    values = {name: str(posted.get(name) or "").strip() for name in FIELDS}
    form = RewardForm(values=values)
    raw: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "limit_period": values["limit_period"] or None,
    }
    for name in ("points_price", "redemption_window_hours", *_OPTIONAL_NUMBERS):
        text = values[name]
        if not text and name in _OPTIONAL_NUMBERS:
            raw[name] = None
        elif re.fullmatch(r"-?\d{1,12}", text):
            raw[name] = int(text)
        else:
            form.errors[name] = "field_invalid"
    if values["valid_until"]:
        try:
            local = datetime.strptime(values["valid_until"], LOCAL_MINUTE)
            raw["valid_until"] = local.replace(tzinfo=ZoneInfo(timezone))
        except ValueError:
            form.errors["valid_until"] = "field_invalid"
    else:
        raw["valid_until"] = None
    if raw["limit_period"] and raw.get("per_member_limit") is None and "per_member_limit" not in form.errors:
        form.errors["limit_period"] = "limit_period_needs_limit"
    if form.errors:
        return form
    try:
        form.fields = sent_fields(msgspec.convert(raw, RewardCreate))
    except msgspec.ValidationError as error:
        found = _FIELD_IN_ERROR.search(str(error))
        form.errors[found.group(1) if found else "title"] = "field_invalid"
    return form


def changed_fields(form: RewardForm, reward: Reward) -> dict[str, Any]:
    """Only what the clerk changed, so an untouched past `valid_until` does not block a price edit."""
    changed = {name: value for name, value in form.fields.items() if getattr(reward, name) != value}
    if (
        changed.get("valid_until")
        and reward.valid_until
        and _to_minute(changed["valid_until"]) == _to_minute(reward.valid_until)
    ):
        # The form shows minutes; a time set through the API with seconds has not been changed here.
        del changed["valid_until"]
    return changed


def _to_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)
