"""The earning API of activities, claims and proxies, mounted under /api/v1 by the member side's plugin."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide

from points_service.activities.controllers import (
    ActivityController,
    ClaimController,
    MyEarningController,
    ProxyController,
)
from points_service.activities.service import ActivityService
from points_service.auth.rate_limit import FailureLimiter
from points_service.claims.service import ClaimService
from points_service.deps import earning_dependencies, earning_service
from points_service.earning import EarningContext


async def provide_activities(earning: EarningContext, state: State) -> ActivityService:
    return ActivityService(earning, state.settings.jwt_secret, FailureLimiter(state.limits_redis))


def activity_routers() -> list[Router]:
    return [
        Router(
            path="/",
            dependencies={
                **earning_dependencies(),
                "activities": Provide(provide_activities),
                "claims": earning_service(ClaimService),
            },
            route_handlers=[
                ActivityController,
                MyEarningController,
                ClaimController,
                ProxyController,
            ],
        )
    ]
