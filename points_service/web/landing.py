"""`/`: a small landing page pointing residents, shops and community staff to their own pages and to the
公示 boards that exist (units with a published evaluation, from whichever package keeps evaluations), and
the site's icon at /favicon.ico (and /favicon.svg). Nobody signs in here; it only links."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, get
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.di import Provide
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.web.i18n import Catalogue
from points_service.web.page import CONTENT_SECURITY_POLICY

ZH_CN = {
    "app_name": "红色积分",
    "landing_lead": "社区志愿服务、岗位值守和微心愿的积分，在这里记录和兑换。请选择您的入口：",
    "door_member": "居民",
    "door_member_hint": "查积分、报名活动、签到、兑换奖励",
    "door_merchant": "商户",
    "door_merchant_hint": "核销兑换码、管理奖励",
    "door_staff": "社区工作人员",
    "door_staff_hint": "发放积分、组织活动、审核与预警",
    "boards_title": "公示栏",
    "boards_lead": "已发布的考评结果，人人可看，姓名已隐去：",
    "boards_empty": "还没有发布的考评。社区工作人员在工作台发布考评后，公示栏会列在这里。",
    "board_latest": "最新：{name}",
}
EN = {
    "app_name": "Red Points",
    "landing_lead": "Points for community volunteering, duty posts and micro-wishes are kept and spent here. "
    "Choose your door:",
    "door_member": "Residents",
    "door_member_hint": "Your points, activities, check-in, rewards",
    "door_merchant": "Shops",
    "door_merchant_hint": "Confirm reward codes, manage rewards",
    "door_staff": "Community staff",
    "door_staff_hint": "Award points, run activities, approvals and warnings",
    "boards_title": "Public boards (公示)",
    "boards_lead": "Published evaluation results, open to everyone, names masked:",
    "boards_empty": "No evaluation is published yet. Once staff publish one in the console, its board is listed here.",
    "board_latest": "Latest: {name}",
}
WORDS = Catalogue({"zh-CN": ZH_CN, "en": EN})
BOARDS_SHOWN = 12


@dataclass(frozen=True)
class BoardLink:
    """A unit whose 公示 board has something to show: only what the board itself shows anyone."""

    unit_id: uuid.UUID
    unit_name: str
    latest: str


# A package's boards, newest first (the admin package's published evaluations).
BoardSource = Callable[[AsyncSession, int], Awaitable[list[BoardLink]]]

# A red five-pointed star on a rounded square: drawn by hand, so there is no image file to license.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
    '<rect width="64" height="64" rx="14" fill="#c8102e"/>'
    '<path fill="#ffd700" d="M32 9l6.5 15.6 16.9 1.4-12.8 11.1 3.9 16.5L32 44.8l-14.5 8.8 3.9-16.5L8.6 26l16.9-1.4z"/>'
    "</svg>"
)


# Its own few lines of style (the pages' stylesheets live under their paths; no inline style under the CSP).
LANDING_CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       color: #1f1f1f; background: #f6f3f1; }
.bar { display: flex; justify-content: space-between; align-items: center; padding: 10px 16px;
       background: #c8102e; color: #fff; }
.bar a { color: #fff; }
.brand { font-weight: 600; }
main { max-width: 48rem; margin: 0 auto; padding: 16px; }
.doors { list-style: none; padding: 0; display: grid; gap: 12px;
         grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); }
.doors a { display: block; background: #fff; border-radius: 10px; padding: 18px; text-decoration: none; color: #1f1f1f;
           border: 1px solid #e6dcd6; min-height: 44px; }
.doors a strong { display: block; font-size: 1.3rem; color: #a8071a; }
.doors a span { color: #5c5c5c; }
.boards { list-style: none; padding: 0; }
.boards li { background: #fff; border: 1px solid #e6dcd6; border-radius: 8px; margin: 0 0 8px; }
.boards a { display: block; padding: 10px 14px; min-height: 44px; color: #a8071a; text-decoration: none; }
.boards span, .empty { display: block; color: #5c5c5c; font-size: .9rem; }
"""


@get("/landing.css", name="landing_css", include_in_schema=False, media_type="text/css")
async def landing_css() -> Response[str]:
    return Response(LANDING_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@get("/", name="landing", include_in_schema=False)
async def landing(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    board_sources: Sequence[BoardSource],
    lang: str | None = None,
) -> Template:
    chosen = WORDS.supported(lang) or WORDS.supported(request.headers.get("accept-language", "")[:2]) or "zh-CN"
    boards = [board for source in board_sources for board in await source(db_session, BOARDS_SHOWN)]
    return Template(
        template_name="landing/index.html",
        context={
            "t": WORDS.words(chosen),
            "lang": chosen,
            "page_path": "/",
            "user": None,
            "message": None,
            "boards": boards[:BOARDS_SHOWN],
        },
    )


@get(["/favicon.ico", "/favicon.svg"], name="favicon", include_in_schema=False, media_type="image/svg+xml")
async def favicon() -> Response[str]:
    return Response(FAVICON_SVG, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


def landing_router(board_sources: Sequence[BoardSource] = ()) -> Router:
    sources = tuple(board_sources)

    def provide_board_sources() -> Sequence[BoardSource]:
        return sources

    return Router(
        path="/",
        route_handlers=[landing, landing_css, favicon],
        dependencies={"board_sources": Provide(provide_board_sources, sync_to_thread=False)},
        response_headers=[
            ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
            ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
        ],
        cache_control=CacheControlHeader(max_age=300),
        include_in_schema=False,
    )
