"""The member page's routes, mounted by the app factory at /member/ (the rewards tab comes from the
merchants package, which mounts its screens beside these with `MEMBER_PAGE.with_words(...).screens(...)`)."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from points_service.activities.routes import provide_activities, provide_proxies
from points_service.deps import provide_clock, provide_idempotent, provide_ledger, provide_org
from points_service.duty.routes import provide_duty
from points_service.mobile.controllers import MEMBER_CONTROLLERS
from points_service.mobile.page import MEMBER_PAGE


def member_page_routers() -> list[Router]:
    """Sign-in and sign-out, home, activities and shifts, and the page's static files."""
    return MEMBER_PAGE.routers(
        MEMBER_CONTROLLERS,
        dependencies={
            "principal": Provide(MEMBER_PAGE.user),
            "org": Provide(provide_org),
            "proxies": Provide(provide_proxies),
            "clock": Provide(provide_clock),
            "ledger": Provide(provide_ledger),
            "idempotent": Provide(provide_idempotent),
            "activities": Provide(provide_activities),
            "duty": Provide(provide_duty),
        },
    )
