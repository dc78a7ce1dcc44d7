"""Staff work's one face to the application: the staff API and console, the staff award batches, the
daily early warnings (a scheduled job after POINTS_DAILY_WARNINGS_AT, and `points-service warnings run`
for cron) and its tables."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.console import TEMPLATE_DIRECTORY as CONSOLE_TEMPLATES
from admin.console.page import STAFF_PAGE
from admin.console.routes import console_routers
from admin.evaluations import models as evaluation_models
from admin.evaluations.jobs import EVALUATION_RUN
from admin.imports.jobs import MEMBER_EXPORT, ROSTER_IMPORT
from admin.points.group_awards import StaffAwardBatches, staff_award_batches
from admin.public import TEMPLATE_DIRECTORY as PUBLIC_TEMPLATES
from admin.public.routes import public_api_routers, public_page_routers
from admin.public.service import published_boards
from admin.routes import admin_router
from admin.warnings import models as warning_models
from admin.warnings.daily import DAILY_WARNINGS, DueRuns, run_due
from points_service.command_env import migrate_to_head, resolved_settings, with_sessions
from points_service.demo_scene import DemoScene
from points_service.jobs import Work
from points_service.package_plugin import PackagePlugin
from points_service.state import AppState
from points_service.web import Page
from points_service.web.landing import BoardSource


class AdminState(AppState):
    staff_award_batches: StaffAwardBatches


@click.group()
def warnings() -> None:
    """Early warnings (预警)."""


@warnings.command("run")
def run_warnings() -> None:
    """Store today's early warnings for every tenant that has no run for its local day yet (for cron;
    the job queue's worker also does this after POINTS_DAILY_WARNINGS_AT)."""

    async def run(sessions: async_sessionmaker[AsyncSession]) -> DueRuns:
        return await run_due(sessions, None, datetime.now(UTC))

    with resolved_settings() as settings:
        migrate_to_head(settings)
        due = asyncio.run(with_sessions(settings, run))
    stored = [f"tenant {tenant_id}: {run.run_date}, {run.item_count} findings" for tenant_id, run in due.stored]
    for line in [*stored, *(f"tenant {tenant_id}: FAILED (see the log)" for tenant_id in due.failed)]:
        click.echo(line)
    click.echo(f"stored {len(stored)} daily warning runs (tenants already run today are skipped)")
    if due.failed:
        sys.exit(1)


class AdminPlugin(PackagePlugin):
    models = (evaluation_models, warning_models)

    def api_routers(self) -> Sequence[ControllerRouterHandler]:
        return [admin_router(self.offered.pending), *public_api_routers()]

    def page_routers(self) -> Sequence[ControllerRouterHandler]:
        return [*console_routers(self.offered.pending), *public_page_routers()]

    def lends(self) -> Mapping[str, Page]:
        # The console is where staff work: other packages add their staff screens to it (shops).
        return {"console": STAFF_PAGE}

    def template_directories(self) -> Sequence[Path]:
        return [CONSOLE_TEMPLATES, PUBLIC_TEMPLATES]

    def public_boards(self) -> Sequence[BoardSource]:
        return [published_boards]

    async def demo(self, scene: DemoScene) -> None:
        from admin.demo import publish_evaluation

        await publish_evaluation(scene)

    def commands(self) -> Sequence[click.Command]:
        return [warnings]

    def jobs(self) -> Sequence[Work]:
        return [DAILY_WARNINGS, ROSTER_IMPORT, EVALUATION_RUN, MEMBER_EXPORT]

    @asynccontextmanager
    async def running(self, state: AppState) -> AsyncIterator[None]:
        staff = AdminState(state)
        staff.staff_award_batches = staff_award_batches(staff)
        try:
            yield
        finally:
            await staff.staff_award_batches.close()
