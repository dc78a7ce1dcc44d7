"""A large sheet confirmed on the console's import page is written by the job queue's worker: the page
answers at once, the 后台任务 page shows the job queued or running and then its counts and 导入完成;
nobody else may open the job; the same sheet imported again (as a retry after a worker died would)
writes nothing twice; so many members are exported in the background too. An evaluation of a large
group is computed the same way, and computed again ranks the same members once each. With the queue
out of reach the console does the work in the request, as before jobs."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import anyio
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.evaluations.jobs import LARGE_GROUP
from admin.imports.jobs import LARGE_IMPORT_ROWS
from tests.admin.test_console import CSRF_FIELD, browser, desk, screenshot, sign_in, staff_login
from tests.admin.test_console_work import signed_in_web
from tests.admin.test_imports import import_members, phones, xlsx_file
from tests.conftest import Community, ServedApp, Services, settings_for

__all__ = ["browser", "desk"]

# Long enough for a few thousand rows on a busy machine; a bound on waiting, not a speed claim.
FINISHED_WITHIN_MS = 180_000


async def import_through_the_page(desk: Any, sheet: Path) -> None:
    from playwright.async_api import expect

    await desk.click("nav a[href='/admin/imports']")
    await desk.set_input_files("#file", str(sheet))
    await desk.click("#import-form button[type=submit]")
    await expect(desk.locator(".notice")).to_contain_text("检查通过")
    await desk.click("#confirm-import button[type=submit]")


async def test_a_large_sheet_is_imported_in_the_background_with_its_progress_shown(
    community: Community, desk: Any, served: ServedApp, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    await community.org_unit("幸福小区", "area", unit)
    staff = await staff_login(community, unit)
    await sign_in(desk, staff)
    rows = LARGE_IMPORT_ROWS + 500
    sheet = tmp_path / "大名单.xlsx"
    sheet.write_bytes(
        xlsx_file([[f"居民{index}", number, "幸福小区", "", "", ""] for index, number in enumerate(phones(rows))])
    )

    await import_through_the_page(desk, sheet)
    await expect(desk.locator("h1")).to_have_text("后台任务")
    await expect(desk.locator(".notice")).to_contain_text("已转入后台导入")
    await expect(desk.locator("#job-state")).to_contain_text("已完成", timeout=FINISHED_WITHIN_MS)
    await expect(desk.locator(".notice")).to_contain_text("导入完成")
    await expect(desk.locator("#done .created")).to_have_text(str(rows))
    await screenshot(desk, "60-import-job-done")
    job_page = desk.url

    # Another staff member of the same unit cannot open someone else's job.
    other = await signed_in_web(served, await staff_login(community, unit))
    try:
        assert (await other.get(job_page)).status_code == 404
    finally:
        await other.aclose()

    # So many members are exported by the worker too; the job's page hands over the file.
    await desk.click("nav a[href='/admin/imports']")
    await desk.click("a[href='/admin/members/export?format=xlsx']")
    await expect(desk.locator(".notice")).to_contain_text("已转入后台导出")
    await expect(desk.locator("#job-state")).to_contain_text("已完成", timeout=FINISHED_WITHIN_MS)
    await expect(desk.locator("#done-export")).to_contain_text(f"已导出 {rows} 名成员")
    async with desk.expect_download() as download_info:
        await desk.click("#download")
    download = await download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    exported = load_workbook(io.BytesIO(await anyio.Path(await download.path()).read_bytes())).active
    assert exported is not None and exported.max_row == rows + 1

    # The same sheet again, as a job run a second time: every row is found by phone, nothing is added.
    await import_through_the_page(desk, sheet)
    await expect(desk.locator("#job-state")).to_contain_text("已完成", timeout=FINISHED_WITHIN_MS)
    await expect(desk.locator("#done .created")).to_have_text("0")
    await expect(desk.locator("#done .unchanged")).to_have_text(str(rows))


async def test_a_large_groups_evaluation_is_computed_in_the_background(
    community: Community, desk: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from playwright.async_api import expect

    unit = await community.org_unit("红旗社区")
    members = LARGE_GROUP + 100
    sheet = xlsx_file([[f"居民{index}", number, "", "", "", ""] for index, number in enumerate(phones(members))])
    imported = await import_members(community.admin, sheet, unit, dry_run="false")
    assert imported.status_code == 200, imported.text
    created = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": "年度考评",
            "org_unit_id": unit,
            "target": "all",
            "period_start": "2020-01-01",
            "period_end": "2099-12-31",
            "metrics": [{"metric": "earned_points", "weight": 1}],
        },
    )
    assert created.status_code == 201, created.text
    evaluation_id = created.json()["id"]
    await sign_in(desk, await staff_login(community, unit))

    for _ in range(2):
        await desk.goto(f"/admin/evaluations/{evaluation_id}")
        await desk.click("#run")
        await expect(desk.locator("h1")).to_have_text("后台任务")
        await expect(desk.locator(".notice")).to_contain_text("已转入后台计算")
        await expect(desk.locator("#job-state")).to_contain_text("已完成", timeout=FINISHED_WITHIN_MS)
        await expect(desk.locator(".notice")).to_contain_text("已计算")
        await expect(desk.locator("#done-evaluation")).to_contain_text(f"已为 {members} 人计算")
    await screenshot(desk, "61-evaluation-job-done")

    await desk.click("#back")
    await expect(desk.locator("#results tbody tr").first).to_be_visible()
    read = await community.admin.get(f"/api/v1/admin/evaluations/{evaluation_id}")
    assert read.json()["status"] == "computed"
    async with sessions() as session:
        ranked = await session.execute(
            text("SELECT count(*), count(DISTINCT member_id) FROM evaluation_results WHERE evaluation_id = :id"),
            {"id": evaluation_id},
        )
    assert tuple(ranked.one()) == (members, members)


async def test_with_the_queue_unreachable_a_large_sheet_is_imported_in_the_request(
    community: Community, services: Services
) -> None:
    unit = await community.org_unit("红旗社区")
    staff = await staff_login(community, unit)
    rows = LARGE_IMPORT_ROWS + 10
    sheet = xlsx_file([[f"居民{index}", number, "", "", "", ""] for index, number in enumerate(phones(rows))])
    # Nothing listens on port 1: Redis is down for this app (its worker would run apart).
    with ServedApp(settings_for(services, redis_url="redis://127.0.0.1:1/0", worker="apart")) as broken:
        web = await signed_in_web(broken, staff)
        try:
            page = await web.get("/admin/imports")
            csrf = CSRF_FIELD.search(page.text).group(1)  # type: ignore[union-attr]
            checked = await web.post(
                "/admin/imports",
                data={"_csrf_token": csrf, "kind": "members", "org_unit_id": unit},
                files={"file": ("名单.xlsx", sheet)},
            )
            assert "检查通过" in checked.text, checked.text
            token = re.search(r'name="token" value="([^"]+)"', checked.text).group(1)  # type: ignore[union-attr]
            done = await web.post(
                "/admin/imports",
                data={
                    "_csrf_token": csrf,
                    "token": token,
                    "kind": "members",
                    "org_unit_id": unit,
                    "filename": "名单.xlsx",
                },
            )
        finally:
            await web.aclose()
    assert done.status_code == 200 and "导入完成" in done.text, done.text
    assert re.search(rf'class="created">{rows}<', done.text)
