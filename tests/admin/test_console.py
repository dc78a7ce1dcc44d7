"""The staff console (/admin/) in a real browser: sign in, the org tree with counts, a leaderboard with
its chart, an evaluation created, run, drilled into and exported; and its refusals over plain HTTP.

Driven through Debian's chromium by Playwright (never `playwright install`); skipped only when
/usr/bin/chromium is missing. Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Community, ServedApp, unique
from tests.merchants import test_merchant_page as merchant_page

browser = merchant_page.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
async def desk(browser: Any, served: ServedApp) -> AsyncIterator[Any]:
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=served.base_url, locale="zh-CN", accept_downloads=True
    )
    context.set_default_timeout(15_000)
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


async def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def staff_login(community: Community, unit: str) -> str:
    username = unique("s")
    response = await community.admin.post(
        "/api/v1/admin/staff",
        json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"},
    )
    assert response.status_code == 201, response.text
    return username


async def sign_in(page: Any, username: str) -> None:
    await page.goto("/admin/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form.stack button[type=submit]")


async def a_community_with_points(community: Community) -> tuple[str, str, list[dict[str, Any]]]:
    unit = await community.org_unit("红旗社区")
    building = await community.org_unit("1号楼", "group", unit)
    rule = await community.rule(points=10)
    people = []
    for name, quantity in (("张三", 5), ("李四", 3), ("王五", 3), ("赵六", 1)):
        person = await community.member(building, name=name)
        assert (await community.award(person["id"], rule, quantity=quantity)).status_code == 201
        people.append(person)
    return unit, building, people


async def test_staff_see_the_tree_and_a_leaderboard_with_its_chart(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    unit, building, _ = await a_community_with_points(community)
    await sign_in(desk, await staff_login(community, unit))

    await expect(desk.locator("#units tbody tr")).to_have_count(1)
    await expect(desk.locator("#units tbody tr").first).to_contain_text("红旗社区")
    await expect(desk.locator("#units tbody tr td.num").first).to_have_text("4")
    await desk.click(f"#units a[href='/admin/?unit={unit}']")
    await expect(desk.locator(f"#units tr[data-unit='{building}'] td.num")).to_have_text("4")
    await screenshot(desk, "01-org")

    await desk.click("nav a[href='/admin/leaderboard']")
    await expect(desk.locator("#standings tbody tr")).to_have_count(4)
    rows = [re.split(r"\s+", row.strip()) for row in await desk.locator("#standings tbody tr").all_inner_texts()]
    # Equal points share a rank; within the tie the order is by member id, so only the set is fixed.
    assert rows[0] == ["1", "张三", "50"] and rows[3] == ["4", "赵六", "10"]
    assert sorted(rows[1:3]) == [["2", "李四", "30"], ["2", "王五", "30"]]
    await expect(desk.locator("#chart rect.bar")).to_have_count(4)
    widths = [int(await bar.get_attribute("width")) for bar in await desk.locator("#chart rect.bar").all()]
    assert widths[0] > widths[1] == widths[2] > widths[3]
    await screenshot(desk, "02-leaderboard")


async def test_staff_run_an_evaluation_drill_down_and_download_the_xlsx(community: Community, desk: Any) -> None:
    from openpyxl import load_workbook
    from playwright.async_api import expect

    unit, _, people = await a_community_with_points(community)
    await sign_in(desk, await staff_login(community, unit))
    await desk.click("nav a[href='/admin/evaluations']")
    await desk.fill("#name", "年度考评")
    await desk.fill("#weight_duty_hours", "1")
    await expect(desk.locator("#normalisation")).to_have_value("share_of_best")
    await expect(desk.locator("#band_excellent")).to_have_value("85")
    await desk.fill("#top_n", "1")
    await desk.click("#new-evaluation button[type=submit]")
    await expect(desk.locator("#not-computed")).to_be_visible()

    await desk.click("#run")
    await expect(desk.locator("#status")).to_have_text("已计算")
    # Nobody has duty hours: the page says in words that the metric did not count, and why.
    await expect(desk.locator("#counted-metrics")).to_contain_text("获得积分")
    await expect(desk.locator("#counted-metrics")).not_to_contain_text("值守时长")
    await expect(desk.locator(".excluded-metric[data-metric=duty_hours]")).to_contain_text(
        "值守时长未计入得分：考评范围内每个人的数值都相同"
    )
    await expect(desk.locator("#results thead")).to_contain_text("所属组织")
    await expect(desk.locator("#results tbody tr")).to_have_count(4)
    first = desk.locator("#results tbody tr").first
    await expect(first).to_contain_text("张三")
    await expect(first).to_have_class(re.compile(r"\btop\b"))
    await expect(first.locator(".grade")).to_have_text("优秀")
    await expect(desk.locator("#results tbody tr.top")).to_have_count(1)
    await screenshot(desk, "03-results")

    async with desk.expect_download() as download_info:
        await desk.click("#export-xlsx")
    download = await download_info.value
    saved = await download.path()
    sheet = load_workbook(io.BytesIO(await asyncio.to_thread(Path(saved).read_bytes))).active
    values = list(sheet.iter_rows(values_only=True))
    # A title, the period, the header, then one row per member, best first.
    header = ("排名", "姓名", "所属组织", "职务", "得分", "等级", "前1名")
    assert values[0][0] == "年度考评" and values[2][:7] == header
    page_header = await desk.locator("#results thead th").all_inner_texts()
    assert [cell.strip() for cell in page_header[:6]] == list(header[:6])
    assert (values[3][0], values[3][1], values[3][5], values[3][6]) == (1, "张三", "优秀", "是")
    assert sorted(row[1] for row in values[3:]) == sorted(["张三", "李四", "王五", "赵六"])

    await first.locator("a").click()
    await expect(desk.locator("#member-name")).to_contain_text("张三")
    await expect(desk.locator("#records tbody tr")).to_have_count(1)
    await expect(desk.locator("#records tbody tr")).to_contain_text("50")
    # The record's kind and rule in words, not `award R_...`.
    await expect(desk.locator("#records tbody tr")).to_contain_text("奖励 · 规则")
    await expect(desk.locator("#records tbody tr")).not_to_contain_text("award")
    await screenshot(desk, "04-breakdown")
    assert people


async def test_a_members_credentials_are_refused(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        token = CSRF_FIELD.search((await web.get("/admin/login")).text).group(1)  # type: ignore[union-attr]
        response = await web.post(
            "/admin/login", data={"username": member["username"], "password": PASSWORD, "_csrf_token": token}
        )
        after = await web.get("/admin/", follow_redirects=False)

    assert response.status_code == 403
    assert "管理后台仅供社区工作人员使用" in response.text
    assert after.status_code == 303 and after.headers["location"].startswith("/admin/login")


async def test_a_post_without_the_csrf_token_is_refused(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit()
    username = await staff_login(community, unit)
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        token = CSRF_FIELD.search((await web.get("/admin/login")).text).group(1)  # type: ignore[union-attr]
        signed_in = await web.post(
            "/admin/login", data={"username": username, "password": PASSWORD, "_csrf_token": token}
        )
        forged = await web.post(
            "/admin/evaluations",
            data={
                "name": "x",
                "org_unit_id": unit,
                "target": "all",
                "period_start": "2026-01-01",
                "period_end": "2026-11-01",
                "weight_earned_points": "1",
            },
        )
        listed = await web.get("/admin/evaluations")

    assert signed_in.status_code == 303
    assert forged.status_code == 403
    assert "伪造的考评" not in listed.text


async def test_staff_cannot_open_an_evaluation_of_another_subtree(community: Community, served: ServedApp) -> None:
    root = await community.org_unit("红旗社区")
    area_a = await community.org_unit("一区", "area", root)
    area_b = await community.org_unit("二区", "area", root)
    created = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": "二区考评",
            "org_unit_id": area_b,
            "target": "all",
            "period_start": "2026-01-01",
            "period_end": "2026-11-01",
            "metrics": [{"metric": "earned_points", "weight": 1}],
        },
    )
    assert created.status_code == 201, created.text
    username = await staff_login(community, area_a)
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        token = CSRF_FIELD.search((await web.get("/admin/login")).text).group(1)  # type: ignore[union-attr]
        await web.post("/admin/login", data={"username": username, "password": PASSWORD, "_csrf_token": token})
        page = await web.get(f"/admin/evaluations/{created.json()['id']}")
        listed = await web.get("/admin/evaluations")

    assert page.status_code == 404
    assert "二区考评" not in listed.text


async def test_an_admin_publishes_after_confirming_and_the_run_button_is_gone(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    unit, _, _ = await a_community_with_points(community)
    created = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": "季度考评",
            "org_unit_id": unit,
            "target": "all",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "metrics": [{"metric": "earned_points", "weight": 1}],
        },
    )
    evaluation = created.json()["id"]
    assert (await community.admin.post(f"/api/v1/admin/evaluations/{evaluation}/run")).status_code == 200

    await sign_in(desk, community.admin_username)
    await desk.goto(f"/admin/evaluations/{evaluation}")
    await desk.check("#publish-confirm")
    await desk.click("#publish")

    await expect(desk.locator("#status")).to_have_text("已发布")
    await expect(desk.locator("#run")).to_have_count(0)
    board = desk.locator("#public-board")
    await expect(board).to_have_text("公示")
    assert await board.get_attribute("href") == f"/public/units/{unit}?print=1"
    await desk.goto(f"/public/units/{unit}")
    await expect(desk.locator("section.evaluation h2")).to_have_text("季度考评")
    again = await community.admin.post(f"/api/v1/admin/evaluations/{evaluation}/run")
    assert again.status_code == 409
    await screenshot(desk, "05-published")


async def test_staff_see_warnings_with_counts(community: Community, desk: Any) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.member(unit, name="钱七")
    await sign_in(desk, await staff_login(community, unit))

    await desk.click("nav a[href='/admin/warnings']")

    inactive = desk.locator("#on-demand section.warning[data-kind='inactive_members'] .count")
    await expect(inactive).to_have_text("1 项")
    await screenshot(desk, "06-warnings")
