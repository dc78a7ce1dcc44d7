"""The console's words for fair grades, positions and the 公示 board (merged into the catalogue in i18n.py)."""

from __future__ import annotations

ZH_CN: dict[str, str] = {
    "normalisation": "折算方式",
    "normalisation_share_of_best": "按组内最好成绩折算（默认）：最好者 100 分，其他人按其比例得分",
    "normalisation_percentile": "按组内名次百分位折算（适合人数多的考评）",
    "grade_bands": "等次分数线（只看得分，不按名次）",
    "band_excellent": "优秀 ≥",
    "band_qualified": "合格 ≥",
    "band_basically_qualified": "基本合格 ≥",
    "max_excellent_share": "优秀人数上限（占考评人数的 %，留空为不限）",
    "max_excellent_share_hint": "超出上限的优秀改为合格；分数相同者一并处理",
    "cadre_positions": "只考评这些职务（仅对“干部”有效；都不选为全部职务）",
    "no_positions": "还没有成员填写职务：在成员资料里填写“职务”后可在此选择",
    "unit_column": "所属组织",
    "position_column": "职务",
    "counted_metrics": "计入得分的指标",
    "metric_not_counted": "{metric}未计入得分：考评范围内每个人的数值都相同（或都没有数据），"
    "无法区分任何人，其权重由其他指标分担。",
    "no_value_note": "没有数据的成员（例如没有人评价过他）不按 0 计算：该项不计入他的得分，权重由他的其他指标分担。",
    "grading_rule": "等次按得分划分：优秀 ≥ {excellent}，合格 ≥ {qualified}，"
    "基本合格 ≥ {basically_qualified}，以下为不合格。",
    "excellent_cap_rule": "优秀人数不超过考评人数的 {share}%。",
    "no_value": "无数据",
    "left_out_no_variance": "未计入：人人相同",
    "left_out_no_value": "未计入：无数据",
    "public_board": "公示",
    "public_board_hint": "打开本组织的公示页，可直接打印张贴",
    "no_evaluations_yet": "还没有考评方案：在下方“新建考评”中填写名称、范围和指标权重后创建。",
}

EN: dict[str, str] = {
    "normalisation": "Scoring",
    "normalisation_share_of_best": "Share of the group's best (default): the best scores 100, others their share",
    "normalisation_percentile": "Percentile within the group (for large groups)",
    "grade_bands": "Grade bands (by score alone, never by rank)",
    "band_excellent": "Excellent ≥",
    "band_qualified": "Qualified ≥",
    "band_basically_qualified": "Basically qualified ≥",
    "max_excellent_share": "At most this % of the group excellent (blank: no cap)",
    "max_excellent_share_hint": "Excellent beyond the cap become qualified; equal scores are treated alike",
    "cadre_positions": "Only these positions (cadres only; none ticked: every position)",
    "no_positions": "No member has a position yet: fill in a member's position to choose it here",
    "unit_column": "所属组织 Unit",
    "position_column": "职务 Position",
    "counted_metrics": "Metrics counted in the score",
    "metric_not_counted": "{metric} did not count: everyone in the group had the same value (or none), so it "
    "said nothing about anyone; its weight went to the other metrics.",
    "no_value_note": "A member with no data for a metric (nobody rated them, say) is not counted as 0: the metric "
    "is left out of their score and its weight goes to their other metrics.",
    "grading_rule": "Grades by score: excellent ≥ {excellent}, qualified ≥ {qualified}, basically qualified ≥ "
    "{basically_qualified}, below that unqualified.",
    "excellent_cap_rule": "At most {share}% of the group is excellent.",
    "no_value": "No data",
    "left_out_no_variance": "Not counted: the same for everyone",
    "left_out_no_value": "Not counted: no data",
    "public_board": "公示 Public board",
    "public_board_hint": "Opens the unit's public board, ready to print and put up",
    "no_evaluations_yet": "No evaluation yet: create one below under New evaluation (name, scope, weights).",
}
