"""How much of the HTTP API the OpenAPI document describes: handlers with an untyped answer, and operations
whose 2xx answer has a schema.

Run from the project root (no server, no database: the app is built, never started):

    .venv/bin/python bench/typed_answers.py [--list]

An API handler is one under /api/ or /health/ that the document includes (pages are left out). Its answer is
untyped when the return annotation is missing, `Any`, `dict[str, Any]`, `list[dict[str, Any]]` or
`Response[...]` of one of these. An operation's 2xx answer has a schema when it is a body-less status (204)
or its content schema names something (a component, an array of one, a scalar or bytes), not a bare
`{"type": "object"}`.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from litestar import Litestar, Response
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPI, Operation, Reference, Schema

from points_service.app import create_app
from points_service.settings import Settings

API_PREFIXES = ("/api/", "/health/")


def offline_app() -> Litestar:
    return create_app(
        Settings(database_url="postgresql+asyncpg://unused/unused", redis_url="redis://unused", jwt_secret="x" * 40)
    )


def untyped_kind(annotation: Any) -> str | None:
    """Why an answer annotation says nothing about the body, or None when it does."""
    if annotation is None or annotation is typing.Any:
        return "Any / missing"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return "dict[str, Any]"
    if origin is list and args and untyped_kind(args[0]) is not None:
        return "list[dict[str, Any]]"
    if annotation is Response or origin is Response:
        if not args or args[0] is typing.Any:
            return "Response[Any]"
        inner = untyped_kind(args[0])
        return None if inner is None else f"Response[{inner}]"
    return None


def api_handlers(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    found = []
    for route in app.routes:
        if not route.path.startswith(API_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.resolve_include_in_schema():
                methods = ",".join(sorted(handler.http_methods))
                found.append((methods, route.path, handler))
    return found


def return_annotation(handler: HTTPRouteHandler) -> Any:
    hints = typing.get_type_hints(handler.fn, include_extras=False)
    return hints.get("return")


def _resolve(document: OpenAPI, schema: Schema | Reference) -> Schema:
    if isinstance(schema, Reference):
        name = schema.ref.rsplit("/", 1)[-1]
        assert document.components.schemas is not None
        resolved = document.components.schemas[name]
        assert isinstance(resolved, Schema)
        return resolved
    return schema


def _describes(document: OpenAPI, schema: Schema | Reference | None) -> bool:
    if schema is None:
        return False
    if isinstance(schema, Reference):
        return True
    resolved = _resolve(document, schema)
    if resolved.one_of or resolved.any_of or resolved.all_of:
        return True
    if resolved.type in (None,) and not resolved.properties:
        return False
    if resolved.type == "object" or (isinstance(resolved.type, list) and "object" in resolved.type):
        return bool(resolved.properties)
    if resolved.type == "array":
        return _describes(document, resolved.items)  # type: ignore[arg-type]
    return True


def operations(document: OpenAPI) -> list[tuple[str, str, Operation]]:
    found = []
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method)
            if operation is not None:
                found.append((method.upper(), path, operation))
    return found


def answer_described(document: OpenAPI, operation: Operation) -> bool:
    for status, response in (operation.responses or {}).items():
        if not str(status).startswith("2"):
            continue
        assert not isinstance(response, Reference)
        if str(status) == "204" or not response.content:
            return str(status) == "204"
        return all(_describes(document, media.schema) for media in response.content.values())
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="name every untyped handler and undescribed operation")
    args = parser.parse_args()
    app = offline_app()
    kinds: Counter[str] = Counter()
    untyped = []
    handlers = api_handlers(app)
    for methods, path, handler in handlers:
        kind = untyped_kind(return_annotation(handler))
        if kind is not None:
            kinds[kind] += 1
            untyped.append(f"  {methods} {path}: {kind}")
    document = app.openapi_schema
    ops = operations(document)
    undescribed = [f"  {method} {path}" for method, path, op in ops if not answer_described(document, op)]
    print(f"API handlers: {len(handlers)}; untyped answer: {len(untyped)} {dict(kinds)}")
    print(f"operations: {len(ops)}; 2xx answer with a schema: {len(ops) - len(undescribed)}")
    if args.list:
        print("untyped handlers:", *untyped, sep="\n")
        print("operations without a described 2xx answer:", *undescribed, sep="\n")


if __name__ == "__main__":
    main()
