"""A history line in words: what it was for (the rule's name with the hours or quantity paid, and the
activity, post, wish or report from the line's own note), and holds, releases and fulfilments said
plainly. A fulfilment moves held points only, so its change of available points is 0; it is shown by
what it cost from the held points, never as a "0" line.

The words come from the caller (the member page's catalogue, in the reader's language); the JSON API
says it in Chinese, the service's first language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from points_service.ledger.balances import HistoryLine

ZH_CN: dict[str, str] = {
    "explain_award": "{rule}",
    "explain_hours": "{rule} · {quantity} 小时",
    "explain_times": "{rule} × {quantity}",
    "explain_penalty": "扣分：{rule}",
    "explain_adjustment": "积分调整",
    "explain_reversal": "撤销一笔积分",
    "explain_hold": "兑换冻结 {points} 分，待商户核销",
    "explain_release": "兑换未完成，{points} 分已退回",
    "explain_fulfil": "兑换完成，用去冻结的 {points} 分",
    "explain_expiry": "积分过期",
    "explain_post": "岗位：{what}",
    "explain_other": "积分变动",
    "amount_paid_from_held": "已用 {points}",
}
EN: dict[str, str] = {
    "explain_award": "{rule}",
    "explain_hours": "{rule} · {quantity} h",
    "explain_times": "{rule} × {quantity}",
    "explain_penalty": "Penalty: {rule}",
    "explain_adjustment": "Adjustment",
    "explain_reversal": "An earlier line undone",
    "explain_hold": "{points} points on hold for a redemption until the shop hands it over",
    "explain_release": "Redemption not completed: {points} points returned",
    "explain_fulfil": "Redeemed: {points} held points used",
    "explain_expiry": "Points expired",
    "explain_post": "Post: {what}",
    "explain_other": "Points changed",
    "amount_paid_from_held": "Used {points}",
}
WORDS: dict[str, dict[str, str]] = {"zh-CN": ZH_CN, "en": EN}


@dataclass(frozen=True)
class Explained:
    # What it was for, and the note that says which piece of work, shop or reason.
    title: str
    detail: str | None
    # The change of available points as shown: "+20", "-5", or for a fulfilment what it used.
    amount: str
    # "plus", "minus" or "held" (a fulfilment: nothing left the available points).
    tone: str


def _quantity(quantity: Decimal) -> str:
    return f"{quantity.normalize():f}"


def _title(line: HistoryLine, words: Mapping[str, str]) -> str:
    kind = line.kind
    if kind in ("award", "penalty") and line.rule_name:
        quantity = line.quantity
        if line.rule_unit == "hour" and quantity is not None:
            title = words["explain_hours"].format(rule=line.rule_name, quantity=_quantity(quantity))
        elif quantity is not None and quantity != 1:
            title = words["explain_times"].format(rule=line.rule_name, quantity=_quantity(quantity))
        else:
            title = words["explain_award"].format(rule=line.rule_name)
        return words["explain_penalty"].format(rule=title) if kind == "penalty" else title
    points = abs(line.held_amount or line.amount)
    key = {
        "adjustment": "explain_adjustment",
        "reversal": "explain_reversal",
        "redemption_hold": "explain_hold",
        "redemption_release": "explain_release",
        "redemption_fulfil": "explain_fulfil",
        "expiry": "explain_expiry",
    }.get(kind)
    if key is None:
        return line.memo or words["explain_other"]
    return words[key].format(points=points)


def _detail(line: HistoryLine, words: Mapping[str, str]) -> str | None:
    memo = (line.memo or "").strip() or None
    if memo and line.source and line.source.startswith("shift:"):
        # A shift's note is its post's name (and who checked in for the member).
        return words["explain_post"].format(what=memo)
    if memo and line.kind not in ("award", "penalty") and memo == _title(line, words):
        return None
    return memo


def explain(line: HistoryLine, words: Mapping[str, str] = ZH_CN) -> Explained:
    title = _title(line, words)
    detail = _detail(line, words)
    if line.kind == "redemption_fulfil" and line.amount == 0:
        return Explained(title, detail, words["amount_paid_from_held"].format(points=abs(line.held_amount)), "held")
    amount = f"+{line.amount}" if line.amount > 0 else str(line.amount)
    return Explained(title, detail, amount, "plus" if line.amount > 0 else "minus")


def description(line: HistoryLine) -> str:
    """The line in one Chinese sentence, for the JSON API."""
    explained = explain(line)
    return f"{explained.title}（{explained.detail}）" if explained.detail else explained.title
