"""The earning API of posts and shifts, micro-wishes, problem reports and in-service registration,
mounted under /api/v1 by the member side's plugin."""

from __future__ import annotations

from litestar import Router

from points_service.deps import earning_dependencies, earning_service
from points_service.duty.controllers import (
    DutyAttendanceController,
    MyDutyController,
    PostClaimController,
    PostController,
    ShiftController,
)
from points_service.duty.service import DutyService
from points_service.registration.controllers import MyRegistrationController, RegistrationController
from points_service.registration.service import RegistrationService
from points_service.reports.controllers import ReportController
from points_service.reports.service import ReportService
from points_service.wishes.controllers import WishController
from points_service.wishes.service import WishService


def duty_routers() -> list[Router]:
    return [
        Router(
            path="/",
            dependencies={
                **earning_dependencies(),
                "duties": earning_service(DutyService),
                "wishes": earning_service(WishService),
                "reports": earning_service(ReportService),
                "registrations": earning_service(RegistrationService),
            },
            route_handlers=[
                PostController,
                PostClaimController,
                ShiftController,
                MyDutyController,
                DutyAttendanceController,
                WishController,
                ReportController,
                RegistrationController,
                MyRegistrationController,
            ],
        )
    ]
