"""The member page's routes, mounted by the app factory at /member/ (the rewards tab comes from the
merchants package, which mounts its screens beside these with `MEMBER_PAGE.with_words(...).screens(...)`)."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from points_service.activities.routes import provide_activities
from points_service.deps import earning_dependencies, earning_service
from points_service.duty.service import DutyService
from points_service.mobile.activity_screen import ActivityScreen
from points_service.mobile.community import COMMUNITY_CONTROLLERS
from points_service.mobile.controllers import MEMBER_CONTROLLERS
from points_service.mobile.inbox_screen import InboxScreen, member_with_unread
from points_service.mobile.page import MEMBER_PAGE
from points_service.registration.service import RegistrationService
from points_service.reports.service import ReportService
from points_service.wishes.service import WishService


def member_page_routers() -> list[Router]:
    """Sign-in and sign-out, home, activities and shifts, and the page's static files."""
    return MEMBER_PAGE.routers(
        [*MEMBER_CONTROLLERS, ActivityScreen, *COMMUNITY_CONTROLLERS, InboxScreen],
        dependencies={
            "principal": Provide(member_with_unread),
            **earning_dependencies(),
            "activities": Provide(provide_activities),
            "duties": earning_service(DutyService),
            "wishes": earning_service(WishService),
            "reports": earning_service(ReportService),
            "registrations": earning_service(RegistrationService),
        },
    )
