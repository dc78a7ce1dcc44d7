"""A large sheet confirmed on the console's import page is written by the job queue's worker: the page
answers at once, the 后台任务 page shows the job queued or running and then its counts and 导入完成;
nobody else may open the job; the same sheet imported again (as a retry after a worker died would)
writes nothing twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from admin.imports.jobs import LARGE_IMPORT_ROWS
from tests.admin.test_console import browser, desk, screenshot, sign_in, staff_login
from tests.admin.test_console_work import signed_in_web
from tests.admin.test_imports import phone, xlsx_file
from tests.conftest import Community, ServedApp

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
    sheet.write_bytes(xlsx_file([[f"居民{index}", phone(), "幸福小区", "", "", ""] for index in range(rows)]))

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

    # The same sheet again, as a job run a second time: every row is found by phone, nothing is added.
    await import_through_the_page(desk, sheet)
    await expect(desk.locator("#job-state")).to_contain_text("已完成", timeout=FINISHED_WITHIN_MS)
    await expect(desk.locator("#done .created")).to_have_text("0")
    await expect(desk.locator("#done .unchanged")).to_have_text(str(rows))
