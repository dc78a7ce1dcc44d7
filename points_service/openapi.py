"""The error answers of the API in the OpenAPI document: every operation under /api/ lists the
application/problem+json statuses it can answer, each described by the one `Problem` schema.

Most of them follow from what a handler takes and who may call it, so handlers do not list them by hand.
A handler whose own refusals are known better than the guess (404 for ids it is given, 409 for a write)
names them in `opt[REFUSALS]`."""

from __future__ import annotations

import typing
import uuid
from collections.abc import Iterable
from pathlib import Path

from litestar import Router
from litestar.constants import RESERVED_KWARGS
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import (
    JsonRenderPlugin,
    OpenAPIRenderPlugin,
    RedocRenderPlugin,
    SwaggerRenderPlugin,
    YamlRenderPlugin,
)
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.static_files import create_static_files_router

from points_service.errors import PROBLEM_MEDIA_TYPE, Problem

API_PREFIX = "/api/"
# Handler opt key: the statuses of the handler's own refusals (replacing the 404/409 guess).
REFUSALS = "refusals"

PROBLEM_DESCRIPTIONS = {
    400: "`validation_error`: a malformed or out-of-range body, parameter or header; `errors` names each field",
    401: "`unauthenticated`: no, bad or expired token (sign-in answers `invalid_credentials` or `invalid_token`)",
    403: "`forbidden`: the role may not call this (also `password_change_required`, `account_disabled`, "
    "and refusals that name their reason)",
    404: "`not_found`: no such object within the caller's reach, whether named in the path, the query or the body",
    409: "A refusal of the rules, named by `code` (`conflict`, `insufficient_points`, `cap_reached`, "
    "`not_pending`, `idempotency_in_progress`, ...)",
    413: "`payload_too_large`: the body is over the size limit",
    415: "`unsupported_media_type`: the body was not sent as `application/json`",
    422: "`idempotency_key_reused`: the Idempotency-Key came before with a different body; `import_invalid`: "
    "rows of an uploaded sheet are wrong, `errors` lists each as `{row, column, code, message}`",
    429: "`too_many_attempts`: too many failures; `Retry-After` says when to try again",
    503: "`unavailable`: the database is away or starting; `Retry-After` says when to try again",
}

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _names_an_id(annotation: object) -> bool:
    return annotation is uuid.UUID or any(_names_an_id(arg) for arg in typing.get_args(annotation))


def problem_statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> set[int]:
    """The error statuses an operation can answer, from its inputs, guards and methods."""
    dependencies = handler.resolve_dependencies()
    inputs = {
        name: field
        for name, field in handler.parsed_fn_signature.parameters.items()
        if name not in dependencies and (name not in RESERVED_KWARGS or name == "data")
    }
    in_path = "{" in route.path_format
    statuses = {503}
    if inputs or in_path:
        statuses.add(400)
    if "data" in inputs:
        statuses |= {413, 415}
    if handler.resolve_guards():
        statuses |= {401, 403}
    if "idempotency_key" in inputs:
        statuses |= {409, 422}
    refusals: Iterable[int] | None = handler.opt.get(REFUSALS)
    if refusals is not None:
        return statuses | set(refusals)
    if in_path or "data" in inputs or any(_names_an_id(field.annotation) for field in inputs.values()):
        statuses.add(404)
    if handler.http_methods & _WRITES:
        statuses.add(409)
    return statuses


class ProblemAnswers(ReceiveRoutePlugin):
    """Adds the problem answers to each API operation as its route is registered (the document is built
    later, from the handlers). Answers a handler declares itself are kept."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            return
        for handler in route.route_handlers:
            problems = {
                status: ResponseSpec(
                    Problem,
                    description=PROBLEM_DESCRIPTIONS[status],
                    media_type=PROBLEM_MEDIA_TYPE,
                    generate_examples=False,
                )
                for status in sorted(problem_statuses(route, handler))
            }
            handler.responses = {**problems, **(handler.responses or {})}


# The documentation pages' libraries, vendored (static/api-docs/README.md): a page loads nothing from
# another origin.
DOCS_ASSETS = Path(__file__).parent / "static" / "api-docs"
DOCS_PATH = "/schema"
DOCS_ASSETS_PATH = f"{DOCS_PATH}/static"


def openapi_config(pages: bool) -> OpenAPIConfig:
    """The document at /schema/openapi.json (and .yaml), and with `pages` Redoc at /schema and
    /schema/redoc and Swagger UI at /schema/swagger (POINTS_API_DOCS)."""
    assets = DOCS_ASSETS_PATH
    favicon = "<link rel='icon' href='/favicon.ico'>"
    documents: list[OpenAPIRenderPlugin] = [
        JsonRenderPlugin(),
        YamlRenderPlugin(path=["/openapi.yaml", "/openapi.yml"]),
    ]
    html: list[OpenAPIRenderPlugin] = [
        RedocRenderPlugin(
            path=["/", "/redoc"], js_url=f"{assets}/redoc/redoc.standalone.js", google_fonts=False, favicon=favicon
        ),
        SwaggerRenderPlugin(
            js_url=f"{assets}/swagger-ui/swagger-ui-bundle.js",
            css_url=f"{assets}/swagger-ui/swagger-ui.css",
            standalone_preset_js_url=f"{assets}/swagger-ui/swagger-ui-standalone-preset.js",
            favicon=favicon,
        ),
    ]
    config = OpenAPIConfig(
        title="Red Points API",
        version="1.0.0",
        path=DOCS_PATH,
        components=Components(
            security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
        ),
        security=[{"BearerToken": []}],
        render_plugins=[*html, *documents] if pages else documents,
    )
    if not pages:
        # Litestar serves its first plugin at /schema itself; without the pages that is a 404.
        config.default_plugin = None
    return config


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=DOCS_ASSETS_PATH,
        directories=[DOCS_ASSETS],
        name="api_docs_static",
        cache_control=CacheControlHeader(max_age=86_400),
        include_in_schema=False,
    )
