"""The console's words for the org page's statistics block (merged into the catalogue in i18n.py)."""

from __future__ import annotations

ZH_CN: dict[str, str] = {
    "statistics": "统计",
    "statistics_hint": "按记录实时统计（本组织及下级）；“今年”为本年度 1 月 1 日起",
    "stat_communities": "社区",
    "stat_areas": "居民区",
    "stat_buildings": "楼栋（楼党小组）",
    "stat_members": "成员",
    "stat_registered": "已报到在职党员（双报到）",
    "stat_took_part": "今年参加过活动的报到党员",
    "stat_reports": "民情上报",
    "stat_handled": "已办结",
    "stat_wishes": "微心愿",
    "stat_claimed": "已认领",
}

EN: dict[str, str] = {
    "statistics": "Statistics",
    "statistics_hint": "Counted from the records now (this unit and below); “this year” starts on 1 January",
    "stat_communities": "Communities",
    "stat_areas": "Residential areas",
    "stat_buildings": "Buildings (building groups)",
    "stat_members": "Members",
    "stat_registered": "Registered in-service members",
    "stat_took_part": "Registered members at an activity this year",
    "stat_reports": "Problem reports",
    "stat_handled": "Handled",
    "stat_wishes": "Micro-wishes",
    "stat_claimed": "Claimed",
}
