"""Schemathesis over the whole API, seeded: requests made from the OpenAPI document alone, as the admin of
a tenant holding the demo community, must never get a server error nor an answer its document does not
describe (not_a_server_error, response_schema_conformance).

Valid requests and invalid ones (refused with a 4xx, never a 5xx). Derandomized, so each run sends the
same requests and a failure can be run again. Left out: operations that spend a per-address budget
(those that list 429: sign-in, check-in codes, the public boards), which the rest of the suite shares
from the same address, and /api/v1/auth (its tokens are this run's own)."""

from __future__ import annotations

import itertools

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.demo import load_demo
from tests.conftest import PASSWORD, ServedApp, unique

# Requests per operation and kind (valid by the document, and invalid): the run stays within about two
# minutes on a small, shared machine.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
CHECKS = [not_a_server_error, response_schema_conformance]


def left_out(path: str, operation: dict) -> bool:
    return path.startswith("/api/v1/auth/") or "429" in operation.get("responses", {})


async def test_generated_requests_get_no_server_error_and_answers_the_document_describes(
    served: ServedApp, sessions: async_sessionmaker[AsyncSession]
) -> None:
    prefix = unique("st")
    admin = f"{prefix}-admin"
    async with sessions() as session, session.begin():
        await load_demo(session, unique("模式测试街道"), admin, PASSWORD, prefix)
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as client:
        document = (await client.get("/schema/openapi.json")).json()
        signed_in = await client.post("/api/v1/auth/login", json={"username": admin, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    for path, item in document["paths"].items():
        for method, operation in list(item.items()):
            if isinstance(operation, dict) and left_out(path, operation):
                del item[method]

    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    operations = 0
    for result, mode in itertools.product(schema.get_all_operations(), EXAMPLES):
        operation = result.ok()
        operations += mode is GenerationMode.POSITIVE

        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode))
        def generated(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=served.base_url, headers=headers, checks=CHECKS)

        try:
            generated()
        except (Exception, BaseExceptionGroup) as failure:  # every operation is tried; all are listed
            failures.append(f"{operation.label} ({mode.value}): {failure}"[:3000])

    assert operations > 100
    assert failures == [], "\n\n".join(failures)
