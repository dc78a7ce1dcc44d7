"""Fair grades: the demo's six cadres (earned 100, 90, 85, 75, 55, 45; no duty recorded) graded by share
of the best, with the no-variance metric left out and named; a cap on excellent; percentile as before;
cadre evaluations limited to positions, with unit and position on results, files and breakdown."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from tests.conftest import Community

EARNED = {"甲书记": 100, "乙委员": 90, "丙网格长": 85, "丁委员": 75, "戊书记": 55, "己网格长": 45}
POSITIONS = {
    "甲书记": "书记",
    "乙委员": "委员",
    "丙网格长": "网格长",
    "丁委员": "委员",
    "戊书记": "书记",
    "己网格长": "网格长",
}
BOTH_METRICS = [{"metric": "earned_points", "weight": 1}, {"metric": "duty_hours", "weight": 1}]


async def six_cadres(community: Community) -> tuple[str, dict[str, str]]:
    """The six cadres in one community, each with their earned points, and one resident who is no cadre."""
    unit = await community.org_unit("幸福社区")
    rule = await community.rule(points=5)
    ids = {}
    for name, earned in EARNED.items():
        ids[name] = (await community.member(unit, name=name, cadre_position=POSITIONS[name]))["id"]
        assert (await community.award(ids[name], rule, quantity=earned // 5)).status_code == 201
    resident = (await community.member(unit, name="居民"))["id"]
    assert (await community.award(resident, rule, quantity=40)).status_code == 201
    return unit, ids


async def run(community: Community, unit: str, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "2026年度干部考评",
        "org_unit_id": unit,
        "target": "cadres",
        "period_start": "2020-01-01",
        "period_end": "2099-12-31",
        "metrics": BOTH_METRICS,
        **fields,
    }
    created = await community.admin.post("/api/v1/admin/evaluations", json=body)
    assert created.status_code == 201, created.text
    evaluation_id = created.json()["id"]
    ran = await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/run")
    assert ran.status_code == 200, ran.text
    results = await community.admin.get(f"/api/v1/admin/evaluations/{evaluation_id}/results")
    return {"id": evaluation_id, "created": created.json(), "run": ran.json(), **results.json()}


async def test_the_six_cadres_are_graded_by_share_of_the_best_without_the_empty_metric(
    community: Community,
) -> None:
    unit, _ = await six_cadres(community)

    fair = await run(community, unit)

    assert fair["created"]["normalisation"] == "share_of_best"
    assert fair["excluded_metrics"] == [{"metric": "duty_hours", "reason": "no_variance"}]
    assert fair["run"]["excluded_metrics"] == fair["excluded_metrics"]
    assert [(r["name"], r["score"]) for r in fair["items"]] == [(name, float(e)) for name, e in EARNED.items()]
    assert [r["grade"] for r in fair["items"]] == [
        "excellent",
        "excellent",
        "excellent",
        "qualified",
        "basically_qualified",
        "basically_qualified",
    ]
    assert "居民" not in [r["name"] for r in fair["items"]]


async def test_a_cap_on_excellent_keeps_only_the_first_and_percentile_keeps_todays_grades(
    community: Community,
) -> None:
    unit, _ = await six_cadres(community)

    capped = await run(community, unit, max_excellent_share=0.2)
    percentile = await run(community, unit, normalisation="percentile")

    assert capped["created"]["max_excellent_share"] == 0.2
    assert [r["score"] for r in capped["items"]] == [100, 90, 85, 75, 55, 45]
    assert [r["grade"] for r in capped["items"]] == [
        "excellent",
        "qualified",
        "qualified",
        "qualified",
        "basically_qualified",
        "basically_qualified",
    ]
    # As before: earned percentiles 91.67 … 8.33 and 50 for everyone's equal duty hours, averaged.
    assert percentile["excluded_metrics"] == []
    assert [r["score"] for r in percentile["items"]] == [70.83, 62.5, 54.17, 45.83, 37.5, 29.17]
    assert [r["grade"] for r in percentile["items"]] == [
        "qualified",
        "qualified",
        "basically_qualified",
        "basically_qualified",
        "unqualified",
        "unqualified",
    ]


async def test_a_tie_at_the_cap_is_left_out_whole(community: Community) -> None:
    unit = await community.org_unit()
    rule = await community.rule(points=10)
    for name, quantity in (("甲", 10), ("乙", 10), ("丙", 5), ("丁", 1)):
        member = await community.member(unit, name=name, cadre_position="委员")
        await community.award(member["id"], rule, quantity=quantity)

    capped = await run(community, unit, metrics=[{"metric": "earned_points", "weight": 1}], max_excellent_share=0.25)

    # One of four may be excellent, but the first two are equal: neither is preferred by a coin.
    assert [(r["score"], r["grade"]) for r in capped["items"]] == [
        (100, "qualified"),
        (100, "qualified"),
        (50, "basically_qualified"),
        (10, "unqualified"),
    ]


async def test_positions_limit_a_cadre_evaluation_and_unit_and_position_travel_with_the_results(
    community: Community,
) -> None:
    unit, ids = await six_cadres(community)

    secretaries = await run(
        community,
        unit,
        cadre_positions=["书记"],
        grade_bands={"excellent": 90, "qualified": 60, "basically_qualified": 50},
    )
    base = f"/api/v1/admin/evaluations/{secretaries['id']}/results"
    as_csv = list(
        csv.reader(io.StringIO((await community.admin.get(base, params={"format": "csv"})).content.decode("utf-8-sig")))
    )
    sheet = load_workbook(io.BytesIO((await community.admin.get(base, params={"format": "xlsx"})).content)).active
    table = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    breakdown = (await community.admin.get(f"{base}/{ids['戊书记']}")).json()
    refused = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={**secretaries["created"], "target": "all", "cadre_positions": ["书记"], "metrics": BOTH_METRICS},
    )

    assert secretaries["created"]["cadre_positions"] == ["书记"]
    assert [(r["name"], r["unit"], r["position"], r["score"], r["grade"]) for r in secretaries["items"]] == [
        ("甲书记", "幸福社区", "书记", 100, "excellent"),
        ("戊书记", "幸福社区", "书记", 55, "basically_qualified"),
    ]
    assert as_csv[0][:4] == table[0][:4] == ["排名", "姓名", "所属组织", "职务"]
    assert [row[:4] for row in as_csv[1:]] == [["1", "甲书记", "幸福社区", "书记"], ["2", "戊书记", "幸福社区", "书记"]]
    assert [row[:4] for row in table[1:]] == [[1, "甲书记", "幸福社区", "书记"], [2, "戊书记", "幸福社区", "书记"]]
    assert (breakdown["unit"], breakdown["position"]) == ("幸福社区", "书记")
    assert [(m["metric"], m["counted"], m["left_out"]) for m in breakdown["metrics"]] == [
        ("earned_points", True, None),
        ("duty_hours", False, "no_variance"),
    ]
    assert refused.status_code == 400
