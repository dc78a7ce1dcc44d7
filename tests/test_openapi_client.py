"""A real client generator reads the OpenAPI document: it must find nothing to warn about, and the models it
makes for what operations answer must carry the answer's fields, typed (not empty bags of properties)."""

from __future__ import annotations

import functools
import importlib
import json
import re
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import msgspec
import pytest
from litestar.exceptions import NotAuthorizedException, ValidationException

from points_service.app import create_app
from points_service.errors import (
    DomainError,
    InsufficientPoints,
    InvalidInput,
    Problem,
    TooManyAttempts,
    domain_error_handler,
    http_exception_handler,
)
from points_service.settings import Settings
from tests.conftest import JWT_SECRET

PACKAGE = "red_points_client"
# No post-hooks (they would run ruff over the client); SVG and spreadsheet answers are bytes to a client.
GENERATOR_CONFIG = """\
post_hooks: []
content_type_overrides:
  image/svg+xml: application/octet-stream
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
  text/csv: application/octet-stream
"""


@functools.cache
def document() -> dict[str, Any]:
    # Building the app connects to nothing; the document comes from its handlers.
    settings = Settings(
        database_url="postgresql+asyncpg://unused@127.0.0.1/unused", redis_url="redis://unused", jwt_secret=JWT_SECRET
    )
    return create_app(settings).openapi_schema.to_schema()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("openapi-client")
    (folder / "openapi.json").write_text(json.dumps(document()))
    (folder / "config.yaml").write_text(GENERATOR_CONFIG)
    run = subprocess.run(  # noqa: S603 - our own interpreter and a file this test wrote
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(folder / "openapi.json"),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(folder / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return folder, run.stdout + run.stderr


def test_the_generator_finds_nothing_to_warn_about(generated: tuple[Path, str]) -> None:
    _, output = generated
    warnings = re.findall(r"WARNING parsing (\S+ \S+)", output)
    assert "Warning" not in output, f"{len(warnings)} warnings, from: {warnings}\n{output[:4000]}"


def _operation_module(folder: Path, method: str, path: str) -> ModuleType:
    """The generated module of one operation, found by the request it sends."""
    wanted = (f'"method": "{method}"', f'"url": "{path}"')
    for source in sorted((folder / PACKAGE / "api").rglob("*.py")):
        text = source.read_text()
        if all(part in text for part in wanted):
            relative = source.relative_to(folder).with_suffix("")
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
            return importlib.import_module(".".join(relative.parts))
    raise AssertionError(f"no generated module sends {method.upper()} {path}")


def _answer_model(folder: Path, method: str, path: str) -> type:
    module = _operation_module(folder, method, path)
    answers = typing.get_args(typing.get_type_hints(module._parse_response)["return"])
    models = [answer for answer in answers if attrs.has(answer) and answer.__name__ != "Problem"]
    assert len(models) == 1, f"{method.upper()} {path} answers {answers}"
    return models[0]


def _typed_fields(model: type) -> dict[str, str]:
    """Each field's annotation as the generated code writes it (nested models are imported only for type
    checkers, so the annotations stay text)."""
    return {field.name: str(field.type) for field in attrs.fields(model) if field.name != "additional_properties"}


def _item_model(annotation: str) -> type:
    match = re.fullmatch(r"list\[(\w+)\]", annotation)
    assert match, annotation
    model = getattr(importlib.import_module(f"{PACKAGE}.models"), match.group(1))
    assert attrs.has(model), annotation
    return model


@pytest.mark.parametrize(
    ("method", "path", "fields"),
    [
        ("get", "/api/v1/me/balance", {"available", "held", "earned_total", "earned_this_month", "earned_this_year"}),
        ("get", "/api/v1/leaderboards", {"period", "at", "org_unit_id", "items", "me"}),
        (
            "get",
            "/api/v1/activities/{activity_id}",
            {"id", "title", "starts_at", "ends_at", "capacity", "signed_up", "places_left"},
        ),
        ("get", "/api/v1/wishes/{wish_id}", {"id", "title", "resident_name", "status", "created_at"}),
        ("post", "/api/v1/reports", {"id", "category", "place", "status", "created_at"}),
    ],
)
def test_answer_models_carry_typed_fields(
    generated: tuple[Path, str], method: str, path: str, fields: set[str]
) -> None:
    typed = _typed_fields(_answer_model(generated[0], method, path))
    assert fields <= typed.keys()
    assert all("Any" not in annotation for annotation in typed.values()), typed


def test_history_page_model_is_a_typed_page_of_ledger_lines(generated: tuple[Path, str]) -> None:
    page = _typed_fields(_answer_model(generated[0], "get", "/api/v1/me/ledger"))
    assert set(page) == {"items", "next_cursor"}
    line = _typed_fields(_item_model(page["items"]))
    assert set(line) == {"transaction_id", "at", "amount", "kind", "rule_code", "memo", "description"}
    assert line["transaction_id"] == "UUID"
    assert line["amount"] == "int"


def test_every_api_operation_lists_its_problem_answers() -> None:
    paths = document()["paths"]
    for path, item in paths.items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            errors = {status: answer for status, answer in operation["responses"].items() if status >= "400"}
            assert errors, f"{method.upper()} {path} lists no error answers"
            for status, answer in errors.items():
                schema = answer["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, f"{method.upper()} {path} {status}"


@pytest.mark.parametrize(
    "refusal",
    [
        InsufficientPoints(),
        InvalidInput("limit", "must be at most 200"),
        TooManyAttempts(60),
        ValidationException(extra=[{"message": "Expected `int`, got `str`", "key": "limit", "source": "query"}]),
        NotAuthorizedException("no token"),
    ],
    ids=lambda refusal: type(refusal).__name__,
)
def test_the_problem_schema_describes_every_problem_written(refusal: Exception) -> None:
    handler = domain_error_handler if isinstance(refusal, DomainError) else http_exception_handler
    written = msgspec.json.decode(msgspec.json.encode(handler(None, refusal).content))  # type: ignore[arg-type]
    assert set(written) <= set(Problem.__struct_fields__), written
    msgspec.convert(written, Problem)


def _names_its_shape(schema: dict[str, Any]) -> bool:
    """A body schema that says what is in it: a component, a list of them, or a scalar (text, bytes)."""
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _names_its_shape(schema.get("items", {}))
    return schema.get("type") not in (None, "object")


def test_every_api_operation_describes_its_success_body() -> None:
    undescribed = []
    for path, item in document()["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            (status,) = [status for status in operation["responses"] if status.startswith("2")]
            content = operation["responses"][status].get("content") or {}
            if status == "204" and not content:
                continue
            if not content or not all(_names_its_shape(media["schema"]) for media in content.values()):
                undescribed.append(f"{method.upper()} {path}")
    assert not undescribed, f"{len(undescribed)} operations answer an undescribed body: {undescribed}"
