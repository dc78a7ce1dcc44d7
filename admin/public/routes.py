"""The 公示 routes: the public board page and the member's results screen (pages), the public JSON and
/me/evaluations (API, mounted under /api/v1 by the admin plugin)."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from admin.public.controllers import (
    EVALUATIONS_PAGE,
    MemberEvaluationsScreen,
    MyEvaluationsController,
    PublicApi,
    PublicBoardPage,
)


def public_api_routers() -> list[ControllerRouterHandler]:
    return [PublicApi, MyEvaluationsController]


def public_page_routers() -> list[ControllerRouterHandler]:
    return [
        Router(path="/", route_handlers=[PublicBoardPage], include_in_schema=False),
        EVALUATIONS_PAGE.screens([MemberEvaluationsScreen], {"principal": Provide(EVALUATIONS_PAGE.user)}),
    ]
