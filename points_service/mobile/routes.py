"""The member page's routes, mounted by the app factory at /member/.

The page is a static shell and a script that speaks the JSON API with the member's bearer token, so it
shows exactly what the API allows (and `points_service` needs nothing from `merchants` to show the
rewards catalogue). No cookies carry authority here, so there is nothing for CSRF to forge.
"""

from __future__ import annotations

from litestar import Router, get
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.response import Template
from litestar.static_files import create_static_files_router

from points_service.mobile import STATIC_DIRECTORY

# Scripts, styles and images only from this origin (QR codes are shown from blob: URLs made of the
# API's SVG), never inline; the page cannot be framed.
PAGE_HEADERS = [
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
]


@get("/member/", name="member_page:shell", include_in_schema=False)
async def shell() -> Template:
    return Template(template_name="member/index.html")


def member_page_routers() -> list[Router]:
    return [
        Router(
            path="/",
            route_handlers=[shell],
            response_headers=PAGE_HEADERS,
            cache_control=CacheControlHeader(no_store=True),
            include_in_schema=False,
        ),
        create_static_files_router(
            path="/member/static",
            directories=[STATIC_DIRECTORY],
            name="member_static",
            cache_control=CacheControlHeader(max_age=300),
            include_in_schema=False,
        ),
    ]
