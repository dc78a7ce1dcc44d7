"""A notice in words: each kind has a sentence per language, filled with the notice's parameters.
Merged into the member page's catalogue (points_service/mobile/i18n.py); the API says the Chinese."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

ZH_CN: dict[str, str] = {
    "inbox": "消息",
    "inbox_title": "我的消息",
    "inbox_unread": "{count} 条未读",
    "inbox_empty": "还没有消息。获得积分、兑换完成、心愿被认领、上报得到答复时，这里会告诉您。",
    "inbox_new": "新",
    "notice_points_received": "收到 {points} 积分：{what}",
    "notice_points_received_plain": "收到 {points} 积分",
    "notice_redemption_fulfilled": "您兑换的{what}已领取，用去 {points} 积分",
    "notice_redemption_expiring": "您兑换的{what}将于 {at} 过期，请尽快领取",
    "notice_wish_claimed": "您发布的心愿「{title}」已被 {by} 认领",
    "notice_report_answered": "您上报的「{title}」有了答复",
    "notice_report_accepted": "您上报的「{title}」已受理",
    "notice_report_rejected": "您上报的「{title}」未予受理：{answer}",
    "notice_report_resolved": "您上报的「{title}」已办结：{answer}",
    "notice_activity_cancelled": "活动「{title}」已取消：{reason}",
    "notice_shift_tomorrow": "明天 {at} 您在「{post}」有值班",
    "notice_unknown": "您有一条新消息",
    "text_size": "字体大小",
    "text_large": "大字",
    "text_normal": "标准字",
    "text_size_set": "字体大小已更改",
}

EN: dict[str, str] = {
    "inbox": "Messages",
    "inbox_title": "My messages",
    "inbox_unread": "{count} unread",
    "inbox_empty": "No messages yet. You are told here when you receive points, a reward is handed over, "
    "your wish is claimed or your report is answered.",
    "inbox_new": "new",
    "notice_points_received": "You received {points} points: {what}",
    "notice_points_received_plain": "You received {points} points",
    "notice_redemption_fulfilled": "Your reward {what} was handed over, for {points} points",
    "notice_redemption_expiring": "Your reward {what} expires at {at}; collect it soon",
    "notice_wish_claimed": "Your wish “{title}” was claimed by {by}",
    "notice_report_answered": "Your report “{title}” has an answer",
    "notice_report_accepted": "Your report “{title}” was accepted",
    "notice_report_rejected": "Your report “{title}” was not taken up: {answer}",
    "notice_report_resolved": "Your report “{title}” was resolved: {answer}",
    "notice_activity_cancelled": "The activity “{title}” was cancelled: {reason}",
    "notice_shift_tomorrow": "Tomorrow at {at} you are on duty at “{post}”",
    "notice_unknown": "You have a new message",
    "text_size": "Text size",
    "text_large": "Large text",
    "text_normal": "Normal text",
    "text_size_set": "Text size changed",
}

# Parameters that hold a moment (ISO 8601), shown in the tenant's local time.
_MOMENTS = ("at",)


def say(kind: str, params: Mapping[str, Any], words: Mapping[str, str], local: Callable[[datetime], str]) -> str:
    """The notice's sentence; a missing parameter or an unknown kind reads as a plain "new message",
    never as a code."""
    values = {key: value for key, value in params.items() if value is not None}
    for key in _MOMENTS:
        if isinstance(values.get(key), str):
            try:
                values[key] = local(datetime.fromisoformat(values[key]))
            except ValueError:
                values.pop(key)
    key = f"notice_{kind}"
    if kind == "points_received" and not values.get("what"):
        key = "notice_points_received_plain"
    if kind == "report_answered" and f"notice_report_{values.get('outcome')}" in words:
        key = f"notice_report_{values['outcome']}"
    try:
        return words[key].format(**values)
    except (KeyError, IndexError):
        return words["notice_unknown"]
