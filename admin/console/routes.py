"""The staff console's routes, mounted by the app factory at /admin/ (the JSON staff API is /api/v1/admin)."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Router
from litestar.di import Provide

from admin.console.account_pages import ACCOUNT_CONTROLLERS
from admin.console.activity_pages import ACTIVITY_CONTROLLERS
from admin.console.controllers import CONSOLE_CONTROLLERS
from admin.console.desk import DESK_CONTROLLERS
from admin.console.page import STAFF_PAGE
from admin.console.points_pages import POINTS_CONTROLLERS
from admin.console.report_photos import ConsoleReportPhotos
from admin.console.roster import ROSTER_CONTROLLERS
from admin.console.work import WORK_CONTROLLERS, work_for, work_list
from admin.routes import approvals_provider
from points_service.approvals import PendingSource
from points_service.auth.principal import Principal
from points_service.deps import provide_org


async def the_staff_member(staff: Principal) -> Principal:
    return staff


def console_routers(offered: Sequence[PendingSource] = ()) -> list[Router]:
    return STAFF_PAGE.routers(
        [
            *CONSOLE_CONTROLLERS,
            *WORK_CONTROLLERS,
            *POINTS_CONTROLLERS,
            *ACTIVITY_CONTROLLERS,
            *ROSTER_CONTROLLERS,
            *DESK_CONTROLLERS,
            *ACCOUNT_CONTROLLERS,
            ConsoleReportPhotos,
        ],
        dependencies={
            "staff": Provide(STAFF_PAGE.user),
            "work": Provide(work_for),
            "listing": Provide(work_list),
            # The approvals queue reads the caller as `principal` and their reach as `org`, like the API's.
            "principal": Provide(the_staff_member),
            "org": Provide(provide_org),
            "approvals": Provide(approvals_provider(offered)),
        },
    )
