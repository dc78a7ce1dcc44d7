"""The staff console's routes, mounted by the app factory at /admin/ (the JSON staff API is /api/v1/admin)."""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from admin.console import STATIC_DIRECTORY
from admin.console.controllers import CONSOLE_CONTROLLERS, CONSOLE_EXCEPTION_HANDLERS, provide_staff
from admin.console.work import WORK_CONTROLLERS

# Scripts and styles only from this origin, never inline (the chart is inline SVG markup, not script);
# the console cannot be framed.
PAGE_HEADERS = [
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
    ),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
]


def console_routers() -> list[Router]:
    return [
        Router(
            path="/admin",
            route_handlers=[*CONSOLE_CONTROLLERS, *WORK_CONTROLLERS],
            dependencies={"staff": Provide(provide_staff)},
            exception_handlers=CONSOLE_EXCEPTION_HANDLERS,  # type: ignore[dict-item]
            response_headers=PAGE_HEADERS,
            cache_control=CacheControlHeader(no_store=True),
            include_in_schema=False,
        ),
        create_static_files_router(
            path="/admin/static",
            directories=[STATIC_DIRECTORY],
            name="console_static",
            cache_control=CacheControlHeader(max_age=3600),
            include_in_schema=False,
        ),
    ]
