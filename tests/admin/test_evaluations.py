"""Evaluations on a small group whose scores, ranks, grades and top-N are worked out by hand."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import load_workbook

from tests.conftest import Community
from tests.points_service.test_duty import at, create_post, holder, one_shift
from tests.points_service.test_reports import report
from tests.points_service.test_wishes import post_wish

TODAY = date.today().isoformat()


async def four_members(community: Community) -> tuple[str, dict[str, str]]:
    """A earns 40; B earns 30 and is penalised 10; C earns 20; D earns 10."""
    unit = await community.org_unit()
    award = await community.rule(points=10)
    penalty = await community.rule(points=-10, category="penalty")
    ids = {}
    for name, quantity in (("甲", 4), ("乙", 3), ("丙", 2), ("丁", 1)):
        ids[name] = (await community.member(unit, name=name))["id"]
        assert (await community.award(ids[name], award, quantity=quantity)).status_code == 201
    assert (await community.award(ids["乙"], penalty)).status_code == 201
    return unit, ids


async def evaluation(
    community: Community, unit: str, metrics: list[dict[str, Any]], top_n: int, normalisation: str = "percentile"
) -> str:
    """An evaluation of everyone in `unit`; percentile unless asked otherwise, as the hand calculations
    below were made that way."""
    response = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": "2026年度考评",
            "org_unit_id": unit,
            "target": "all",
            "period_start": "2020-01-01",
            "period_end": "2099-12-31",
            "metrics": metrics,
            "top_n": top_n,
            "normalisation": normalisation,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"
    return str(response.json()["id"])


async def test_scores_ranks_grades_and_top_n_match_the_hand_calculation(community: Community) -> None:
    unit, _ = await four_members(community)
    # earned percentiles: 40 -> 87.5, 20 -> 50 (both), 10 -> 12.5
    # penalty percentiles (less is better): 0 -> 62.5 (three of them), 10 -> 12.5
    # score = (3 x earned + 1 x penalty) / 4
    evaluation_id = await evaluation(
        community, unit, [{"metric": "earned_points", "weight": 3}, {"metric": "penalty_points", "weight": 1}], 2
    )

    run = await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/run")
    results = (await community.admin.get(f"/api/v1/admin/evaluations/{evaluation_id}/results")).json()["items"]

    assert run.status_code == 200 and run.json()["count"] == 4
    assert [(r["name"], r["rank"], r["score"], r["grade"], r["top_n"]) for r in results] == [
        ("甲", 1, 81.25, "qualified", True),
        ("丙", 2, 53.13, "basically_qualified", True),
        ("乙", 3, 40.63, "basically_qualified", False),
        ("丁", 4, 25.0, "unqualified", False),
    ]
    assert results[2]["metrics"]["earned_points"] == 20
    assert results[2]["metrics"]["penalty_points"] == 10


async def test_equal_scores_share_a_rank_and_a_tie_at_the_border_is_all_in_the_top_n(community: Community) -> None:
    unit, ids = await four_members(community)
    evaluation_id = await evaluation(community, unit, [{"metric": "earned_points", "weight": 1}], 2)

    await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/run")
    results = (await community.admin.get(f"/api/v1/admin/evaluations/{evaluation_id}/results")).json()["items"]

    tied = sorted([ids["乙"], ids["丙"]])
    assert [(r["member_id"], r["rank"], r["score"], r["top_n"]) for r in results] == [
        (ids["甲"], 1, 87.5, True),
        (tied[0], 2, 50.0, True),
        (tied[1], 2, 50.0, True),
        (ids["丁"], 4, 12.5, False),
    ]


async def test_breakdown_explains_the_score_with_the_ledger_lines_behind_it(community: Community) -> None:
    unit, ids = await four_members(community)
    evaluation_id = await evaluation(
        community, unit, [{"metric": "earned_points", "weight": 3}, {"metric": "penalty_points", "weight": 1}], 2
    )
    await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/run")

    breakdown = (await community.admin.get(f"/api/v1/admin/evaluations/{evaluation_id}/results/{ids['乙']}")).json()

    assert breakdown["rank"] == 3
    assert [(m["metric"], m["raw"], m["normalised"], m["contribution"]) for m in breakdown["metrics"]] == [
        ("earned_points", 20, 50.0, 37.5),
        ("penalty_points", 10, 12.5, 3.13),
    ]
    assert sorted(record["earned"] for record in breakdown["records"]) == [-10, 30]


async def test_published_evaluation_never_changes(community: Community) -> None:
    unit, _ = await four_members(community)
    evaluation_id = await evaluation(community, unit, [{"metric": "earned_points", "weight": 1}], 1)
    base = f"/api/v1/admin/evaluations/{evaluation_id}"
    assert (await community.admin.get(f"{base}/results")).json()["code"] == "not_computed"
    await community.admin.post(f"{base}/run")
    assert (await community.admin.post(f"{base}/publish")).json()["status"] == "published"

    run_again = await community.admin.post(f"{base}/run")
    edit = await community.admin.patch(base, json={"top_n": 3})

    assert (run_again.status_code, run_again.json()["code"]) == (409, "published")
    assert (edit.status_code, edit.json()["code"]) == (409, "published")
    disclosure = (await community.admin.get(f"{base}/disclosure")).json()["items"]
    assert [item["display_name"] for item in disclosure][:1] == ["甲"]


async def test_exports_open_as_csv_and_xlsx_with_the_same_rows(community: Community) -> None:
    unit, _ = await four_members(community)
    evaluation_id = await evaluation(community, unit, [{"metric": "earned_points", "weight": 1}], 1)
    base = f"/api/v1/admin/evaluations/{evaluation_id}"
    await community.admin.post(f"{base}/run")

    as_csv = await community.admin.get(f"{base}/results", params={"format": "csv"})
    as_xlsx = await community.admin.get(f"{base}/results", params={"format": "xlsx"})

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["排名", "姓名", "所属组织", "职务", "得分", "等级"]
    names = [row[1] for row in rows[1:]]
    assert (names[0], set(names[1:3]), names[3]) == ("甲", {"乙", "丙"}, "丁")
    assert as_xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    table = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert table[0][:6] == ["排名", "姓名", "所属组织", "职务", "得分", "等级"]
    assert [row[1] for row in table[1:]] == [row[1] for row in rows[1:]]
    assert table[1][2] == rows[1][2] == "红旗社区"
    assert table[1][5] == "优秀"


async def test_period_start_after_end_is_refused(community: Community) -> None:
    unit = await community.org_unit()

    response = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": "x",
            "org_unit_id": unit,
            "target": "all",
            "period_start": "2026-02-01",
            "period_end": "2026-01-01",
            "metrics": [{"metric": "earned_points", "weight": 1}],
            "top_n": 0,
        },
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


async def test_duty_wish_and_report_metrics_read_what_members_did(community: Community) -> None:
    """甲 served one of two due shifts (1.5 h verified), fulfilled a wish and resolved a report;
    乙 holds the post too but missed their only shift; 丙 did none of it."""
    unit = await community.org_unit()
    rule = await community.rule(points=10, category="duty", unit="hour")
    post = await create_post(community.admin, unit, rule)
    first, first_phone = await holder(community, unit, post, "甲")
    second, _ = await holder(community, unit, post, "乙")
    await community.member(unit, name="丙")
    served = await one_shift(community.admin, post, first["id"], -30, -28)
    await one_shift(community.admin, post, first["id"], -10, -8)
    await one_shift(community.admin, post, second["id"], -10, -8)
    await one_shift(community.admin, post, second["id"], 24, 26)  # not due yet: counts against nobody
    verified = await community.admin.post(
        f"/api/v1/shifts/{served}/verify", json={"checked_in_at": at(-30), "checked_out_at": at(-28.5)}
    )
    assert verified.status_code == 200, verified.text
    wish = await post_wish(community.admin, unit, rule_code=await community.rule(points=5, category="wish"))
    await first_phone.post(f"/api/v1/wishes/{wish['id']}/claim")
    await first_phone.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"note": "已送到"})
    assert (await community.admin.post(f"/api/v1/wishes/{wish['id']}/verify")).status_code == 200
    filed = await report(first_phone)
    assert (
        await community.admin.post(f"/api/v1/reports/{filed['id']}/resolve", json={"resolution": "已修好"})
    ).status_code == 200
    metrics = ["duty_hours", "duty_attendance_rate", "micro_wishes_fulfilled", "reports_resolved"]
    evaluation_id = await evaluation(community, unit, [{"metric": m, "weight": 1} for m in metrics], 1)

    run = (await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/run")).json()
    raw = {}
    for name, member_id in (("甲", first["id"]), ("乙", second["id"])):
        breakdown = (await community.admin.get(f"/api/v1/admin/evaluations/{evaluation_id}/results/{member_id}")).json()
        raw[name] = [m["raw"] for m in breakdown["metrics"]]

    assert run["unsourced_metrics"] == []
    assert raw == {"甲": [1.5, 0.5, 1, 1], "乙": [0, 0.0, 0, 0]}
