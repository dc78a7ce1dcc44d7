"""The clerk page's words for a reward's per-member limit, merged into the page's catalogue (i18n.py)."""

from __future__ import annotations

ZH_CN: dict[str, str] = {
    "limit_per_member_ever": "每人总共限兑 {count} 件",
    "limit_per_member_month": "每人每月限兑 {count} 件",
    "limit_per_member_quarter": "每人每季度限兑 {count} 件",
    "limit_per_member_year": "每人每年限兑 {count} 件",
    "limit_per_member_none": "每人不限",
}

EN: dict[str, str] = {
    "limit_per_member_ever": "{count} per member in total",
    "limit_per_member_month": "{count} per member a month",
    "limit_per_member_quarter": "{count} per member a quarter",
    "limit_per_member_year": "{count} per member a year",
    "limit_per_member_none": "No limit per member",
}
