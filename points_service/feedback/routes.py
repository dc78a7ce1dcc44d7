"""The feedback API, mounted under /api/v1 by the member side's plugin."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.deps import provide_org
from points_service.feedback.controllers import ActivityFeedbackController, FeedbackController, MyFeedbackController
from points_service.feedback.service import FeedbackService


async def provide_feedback(db_session: AsyncSession, state: State) -> FeedbackService:
    return FeedbackService(db_session, state.settings.jwt_secret)


def feedback_routers() -> list[Router]:
    return [
        Router(
            path="/",
            dependencies={"org": Provide(provide_org), "feedback": Provide(provide_feedback)},
            route_handlers=[ActivityFeedbackController, MyFeedbackController, FeedbackController],
        )
    ]
