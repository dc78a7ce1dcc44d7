"""What an operator watches (docs/operations.md, "Metrics" and "Logs"): Prometheus metrics at /metrics,
a request id on every answer and in every log line, one JSON access line per request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from points_service.settings import Settings
from tests.conftest import Community, ServedApp, Services, settings_for, unique
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import member_with_points

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(base_url: str) -> Samples:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_an_award_and_a_redemption_by_route_posting_and_batch(community: Community) -> None:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 50)
    rule = await community.rule(points=10)
    _, _, reward_id = await shop(community, unit, points_price=20, stock=5)
    before = await scrape(community.base_url)

    awarded = await community.award(member["id"], rule)
    redeemed = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert (awarded.status_code, redeemed.status_code) == (201, 201), (awarded.text, redeemed.text)
    after = await scrape(community.base_url)

    def grew(name: str, by: float = 1, **labels: str) -> bool:
        return value(after, name, **labels) - value(before, name, **labels) >= by

    award_route = {"method": "POST", "route": "/api/v1/admin/awards", "status": "201"}
    redeem_route = {"method": "POST", "route": "/api/v1/me/redemptions", "status": "201"}
    assert grew("points_http_requests_total", **award_route)
    assert grew("points_http_requests_total", **redeem_route)
    assert grew("points_http_request_duration_seconds_count", **redeem_route)
    assert grew("points_ledger_postings_total", kind="award")
    assert grew("points_ledger_postings_total", kind="redemption_hold")
    assert grew("points_group_commit_batch_size_count", batcher="awards")
    assert grew("points_group_commit_batch_size_count", batcher="redemptions")
    assert value(after, "points_db_pool_capacity", pool="request") > 0


async def test_metrics_name_routes_by_template_never_by_a_member_s_id(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit)

    read = await community.admin.get(f"/api/v1/admin/members/{member['id']}/ledger")
    samples = await scrape(community.base_url)

    assert read.status_code == 200, read.text
    assert value(
        samples,
        "points_http_requests_total",
        method="GET",
        route="/api/v1/admin/members/{member_id}/ledger",
        status="200",
    )
    assert not [key for key in samples if member["id"] in str(key)]


async def test_metrics_are_not_in_the_openapi_document(served: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
        document = (await client.get("/schema/openapi.json")).json()

    assert "/metrics" not in document["paths"]


async def test_a_request_id_sent_comes_back_and_one_is_made_when_none_is(served: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
        sent = await client.get("/health/live", headers={"X-Request-ID": "proxy-7f3a"})
        unsent = await client.get("/health/live")
        again = await client.get("/health/live")
        not_found = await client.get("/no-such-page")

    assert sent.headers["x-request-id"] == "proxy-7f3a"
    assert unsent.headers["x-request-id"]
    assert unsent.headers["x-request-id"] != again.headers["x-request-id"]
    assert not_found.status_code == 404
    assert not_found.headers["x-request-id"]


@pytest.mark.parametrize("unfit", ["x" * 129, "two words", "id\u00e9"])
async def test_an_implausible_request_id_is_replaced(served: ServedApp, unfit: str) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
        response = await client.get("/health/live", headers={"X-Request-ID": unfit.encode()})

    assert response.headers["x-request-id"] not in ("", unfit)
    assert len(response.headers["x-request-id"]) <= 128


async def test_a_request_s_access_line_is_json_with_its_id_and_no_secrets(
    served: ServedApp, capsys: pytest.CaptureFixture[str]
) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=30) as client:
        await client.post(
            "/api/v1/auth/login?password=hunter2-in-a-query",
            json={"username": unique("nobody"), "password": "hunter2-in-a-body"},
            headers={"X-Request-ID": "login-attempt-1", "Cookie": "session=cookie-secret"},
        )

    # The served app writes to standard error; off a terminal, as here, one JSON object per line.
    written = capsys.readouterr().err
    lines = [json.loads(line) for line in written.splitlines() if "login-attempt-1" in line]
    access = [line for line in lines if line["logger"] == "points_service.access"]
    assert len(access) == 1, lines
    assert access[0]["request_id"] == "login-attempt-1"
    assert access[0]["method"] == "POST"
    assert access[0]["route"] == "/api/v1/auth/login"
    assert access[0]["status"] in (401, 422)
    assert access[0]["duration_ms"] >= 0
    assert access[0]["timestamp"].endswith("Z")
    # The test's own HTTP client (httpx) logs the URL it called to the same standard error: not the service's.
    services_lines = "\n".join(line for line in written.splitlines() if '"logger":"httpx"' not in line)
    assert "hunter2" not in services_lines
    assert "cookie-secret" not in services_lines


def test_the_grafana_dashboard_reads_only_metrics_the_service_exposes() -> None:
    dashboard = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text())
    queried = {
        re.sub(r"_(total|bucket|sum|count)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bpoints_\w+", target["expr"])
    }
    exposed = {family.name for family in REGISTRY.collect()}

    assert queried, "the dashboard queries nothing"
    assert queried <= exposed, queried - exposed


async def test_points_metrics_off_leaves_out_metrics_request_ids_and_access_lines(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(services, observe_requests=Settings.from_env({"POINTS_METRICS": "off"}).observe_requests)

    with ServedApp(settings) as unobserved:
        async with httpx.AsyncClient(base_url=unobserved.base_url, timeout=30) as client:
            metrics = await client.get("/metrics")
            live = await client.get("/health/live", headers={"X-Request-ID": "unobserved-1"})

    assert metrics.status_code == 404
    assert live.status_code == 200
    assert "x-request-id" not in live.headers
    assert "unobserved-1" not in capsys.readouterr().err
