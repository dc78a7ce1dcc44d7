"""The member side's one face to the application: the core's own API (the member's view, leaderboards,
activities, duty, claims, wishes, reports, registration, proxies, feedback), the member's page at
/member/, the leaderboards' upkeep and the tables of earning by work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from litestar.types import ControllerRouterHandler

from points_service.activities import models as activity_models
from points_service.activities.routes import activity_routers
from points_service.claims import models as claim_models
from points_service.duty import models as duty_models
from points_service.duty.routes import duty_routers
from points_service.feedback import models as feedback_models
from points_service.feedback.routes import feedback_routers
from points_service.inbox import models as inbox_models
from points_service.leaderboards import models as leaderboard_models
from points_service.leaderboards.controllers import LeaderboardController
from points_service.leaderboards.service import MemberNames, UnitPaths
from points_service.leaderboards.upkeep import keep_boards_forever
from points_service.me.controllers import MeController
from points_service.me.messages import MessagesController
from points_service.mobile import TEMPLATE_DIRECTORY as MEMBER_TEMPLATES
from points_service.mobile.routes import member_page_routers
from points_service.package_plugin import PackagePlugin, in_background
from points_service.proxies import models as proxy_models
from points_service.redis_pool import create_redis
from points_service.reports import models as report_models
from points_service.state import AppState
from points_service.wishes import models as wish_models


class MemberSideState(AppState):
    # Per-process caches of the leaderboards (names shown beside ranks, org units' paths).
    leaderboard_names: MemberNames
    leaderboard_unit_paths: UnitPaths


class MemberSidePlugin(PackagePlugin):
    models = (
        activity_models,
        claim_models,
        duty_models,
        feedback_models,
        inbox_models,
        leaderboard_models,
        proxy_models,
        report_models,
        wish_models,
    )

    def api_routers(self) -> Sequence[ControllerRouterHandler]:
        return [
            MeController,
            MessagesController,
            LeaderboardController,
            *activity_routers(),
            *feedback_routers(),
            *duty_routers(),
        ]

    def page_routers(self) -> Sequence[ControllerRouterHandler]:
        return member_page_routers()

    def template_directories(self) -> Sequence[Path]:
        return [MEMBER_TEMPLATES]

    @asynccontextmanager
    async def running(self, state: AppState) -> AsyncIterator[None]:
        member_side = MemberSideState(state)
        member_side.leaderboard_names = MemberNames()
        member_side.leaderboard_unit_paths = UnitPaths()
        # Rebuilding a tenant's boards writes many keys at once: a client with the longer timeouts.
        boards_redis = create_redis(state.settings.redis_url or "")
        try:
            async with in_background(keep_boards_forever(boards_redis, state.session_factory)):
                yield
        finally:
            await boards_redis.aclose()
