"""What the OpenAPI document says an operation answers: an answer that `?format=` turns into a file lists that
file's media type beside the JSON schema, and a write that answers 200 is documented as 200."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_openapi_client import document

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def paths() -> dict[str, Any]:
    return document()["paths"]


def _success(paths: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses = paths[path][method]["responses"]
    (answer,) = [answer for status, answer in responses.items() if status.startswith("2")]
    return answer.get("content", {})


@pytest.mark.parametrize(
    ("path", "schema", "files"),
    [
        ("/api/v1/merchant/statement", "Statement", {CSV}),
        ("/api/v1/admin/settlements", "Settlement", {CSV}),
        ("/api/v1/admin/evaluations/{evaluation_id}/results", "Results", {CSV, XLSX}),
    ],
)
def test_an_answer_that_can_be_a_file_lists_the_json_and_each_file(
    paths: dict[str, Any], path: str, schema: str, files: set[str]
) -> None:
    content = _success(paths, "get", path)
    assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}
    assert set(content) == {"application/json", *files}
    assert all(content[file]["schema"] == {"type": "string", "format": "binary"} for file in files)


def test_a_settled_code_is_documented_with_the_status_it_answers(paths: dict[str, Any]) -> None:
    responses = paths["/api/v1/merchant/redemptions/fulfil"]["post"]["responses"]
    assert "200" in responses
    assert "201" not in responses
