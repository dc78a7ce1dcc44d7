"""Reach over HTTP: staff act only inside their org subtree, and everything outside it answers 404,
as if it did not exist, in every staff-facing family of endpoints.

One tenant serves every check: a street with two sibling communities, staff scoped to the first
(`staff`) and to the second (`neighbour`), and one object of each kind in the second. Each refusal
is paired with the same call by the staff who do reach the object, so a 404 cannot come from a
wrong path, a wrong body or an object that does not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import PASSWORD, Community, ServedApp, new_community, unique
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import redeem
from tests.points_service.test_activities import code_of, create_activity, member_phone
from tests.points_service.test_duty import create_post, holder, one_shift
from tests.points_service.test_reports import report

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
PERIOD = {"from": str(TODAY - timedelta(days=30)), "to": str(TODAY)}


@dataclass
class Reach:
    community: Community
    staff: httpx.AsyncClient  # staff of `inside`
    neighbour: httpx.AsyncClient  # staff of `outside`, a sibling of `inside`
    ids: dict[str, str] = field(default_factory=dict)


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


@pytest.fixture(scope="module")
async def reach(served: ServedApp, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Reach]:
    async with new_community(served, sessions) as community:
        admin = community.admin
        street = await community.org_unit("街道", "street")
        inside = await community.org_unit("一社区", "community", street)
        outside = await community.org_unit("二社区", "community", street)
        world = Reach(community, await community.staff(inside), await community.staff(outside))
        ids = world.ids
        ids.update(inside=inside, outside=outside)
        ids["inside_member"] = (await community.member(inside, name="李内"))["id"]

        rule = await community.rule(points=10)
        ids["rule"] = rule
        ids["claim_rule"] = await community.rule(points=5, requires_approval=True)
        member, phone = await member_phone(community, outside, "王外")
        ids["member"] = member["id"]
        in_service = await community.member(outside, name="赵在职", party_status="in_service")
        ids["in_service"] = in_service["id"]
        await created(await community.award(member["id"], rule, 5))  # enough for the redemption below

        ids["activity"] = (await create_activity(admin, outside, rule))["id"]
        post = await create_post(admin, outside, rule)
        ids["post"] = post["id"]
        ids["post_claim"] = (await created(await phone.post(f"/api/v1/posts/{post['id']}/claims")))["id"]
        post_holder, _ = await holder(community, outside, post, "钱岗")
        ids["holder"] = post_holder["id"]
        ids["shift"] = await one_shift(admin, post, post_holder["id"], -1, 1)

        wish = {"org_unit_id": outside, "title": "换灯泡", "resident_name": "孙老"}
        ids["wish"] = (await created(await admin.post("/api/v1/wishes", json=wish)))["id"]
        ids["report"] = (await report(phone))["id"]
        claim = {"rule_code": ids["claim_rule"], "quantity": 1}
        ids["claim"] = (await created(await phone.post("/api/v1/claims", json=claim)))["id"]
        appointment = {"proxy_member_id": in_service["id"], "member_id": member["id"]}
        ids["proxy"] = (await created(await admin.post("/api/v1/proxies", json=appointment)))["id"]

        clerk, ids["merchant"], reward = await shop(community, outside)
        ids["clerk"] = (await clerk.get("/api/v1/me")).json()["id"]
        code = (await redeem(phone, reward))["code"]
        await created(await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": code}))
        application = {"name": "幸福小卖部", "address": "幸福路8号", "org_unit_id": outside}
        applied = await community.anonymous.post(
            "/api/v1/merchant-applications", json={**application, "username": unique("shop"), "password": PASSWORD}
        )
        ids["application"] = (await created(applied))["id"]

        scheme = {
            "name": "年度考评",
            "org_unit_id": outside,
            "target": "all",
            "period_start": "2020-01-01",
            "period_end": "2099-12-31",
            "metrics": [{"metric": "earned_points", "weight": 1}],
            "top_n": 1,
        }
        ids["evaluation"] = (await created(await admin.post("/api/v1/admin/evaluations", json=scheme)))["id"]
        await created(await admin.post(f"/api/v1/admin/evaluations/{ids['evaluation']}/run"))
        yield world


# Lists answer what lies in the caller's subtree: (list path, what the list item is, how to read its id).
# They run before the calls below, whose control calls decide or withdraw some of the listed items.
LISTS = [
    ("/api/v1/admin/members", "member", lambda item: item["id"]),
    ("/api/v1/activities", "activity", lambda item: item["id"]),
    ("/api/v1/posts", "post", lambda item: item["id"]),
    ("/api/v1/wishes", "wish", lambda item: item["id"]),
    ("/api/v1/reports", "report", lambda item: item["id"]),
    ("/api/v1/proxies", "proxy", lambda item: item["id"]),
    ("/api/v1/admin/merchants", "merchant", lambda item: item["id"]),
    ("/api/v1/admin/approvals", "claim", lambda item: item["id"]),
    ("/api/v1/admin/approvals", "post_claim", lambda item: item["id"]),
    ("/api/v1/admin/settlements", "merchant", lambda item: item["merchant"]["id"]),
]


@pytest.mark.parametrize(("path", "kind", "item_id"), LISTS, ids=[f"{path} {kind}" for path, kind, _ in LISTS])
async def test_staff_lists_leave_out_what_lies_outside_their_subtree(
    reach: Reach, path: str, kind: str, item_id: Any
) -> None:
    params = {"limit": "200"} if "settlements" not in path else None

    theirs = await reach.staff.get(path, params=params)
    neighbours = await reach.neighbour.get(path, params=params)

    assert theirs.status_code == neighbours.status_code == 200, (theirs.text, neighbours.text)
    assert reach.ids[kind] not in {item_id(item) for item in theirs.json()["items"]}
    assert reach.ids[kind] in {item_id(item) for item in neighbours.json()["items"]}


@dataclass(frozen=True)
class Call:
    """One staff call naming something of the other community; `by_admin` when only a tenant admin
    reaches everything the call names (it also names something of the caller's own community)."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    by_admin: bool = False

    def fill(self, ids: dict[str, str]) -> tuple[str, dict[str, Any] | None, dict[str, str] | None]:
        def filled(value: Any) -> Any:
            if isinstance(value, str):
                return value.format(**ids)
            if isinstance(value, list):
                return [filled(item) for item in value]
            if isinstance(value, dict):
                return {key: filled(item) for key, item in value.items()}
            return value

        return self.path.format(**ids), filled(self.body), filled(self.params)


EVERY_FAMILY = {
    "org units and members": [
        Call("GET", "/api/v1/admin/org-units/{outside}"),
        Call("POST", "/api/v1/admin/org-units", {"name": "新楼", "kind": "area", "parent_id": "{outside}"}),
        Call("GET", "/api/v1/admin/members/{member}"),
        Call("GET", "/api/v1/admin/members", params={"org_unit_id": "{outside}"}),
        Call("POST", "/api/v1/admin/members", {"name": "新人", "phone": "13900000001", "org_unit_id": "{outside}"}),
        Call("GET", "/api/v1/admin/members/{member}/ledger"),
        Call("POST", "/api/v1/admin/members/{in_service}/password-reset"),
        Call("PATCH", "/api/v1/admin/members/{member}", {"cadre_position": "楼长"}),
    ],
    "awards and adjustments": [
        Call("POST", "/api/v1/admin/awards", {"member_id": "{member}", "rule_code": "{rule}"}),
        Call(
            "POST",
            "/api/v1/admin/awards/bulk",
            {"rule_code": "{rule}", "member_ids": ["{inside_member}", "{member}"]},
            by_admin=True,
        ),
        Call("POST", "/api/v1/admin/adjustments", {"member_id": "{member}", "amount": 3, "reason": "纠正"}),
    ],
    "activities": [
        Call(
            "POST",
            "/api/v1/activities",
            {
                "org_unit_id": "{outside}",
                "title": "x",
                "rule_code": "{rule}",
                "starts_at": "2030-01-01T09:00:00+08:00",
                "ends_at": "2030-01-01T11:00:00+08:00",
                "capacity": 5,
            },
        ),
        Call("GET", "/api/v1/activities/{activity}"),
        Call("GET", "/api/v1/activities/{activity}/signups"),
        Call("GET", "/api/v1/activities/{activity}/check-in-code"),
        Call("GET", "/api/v1/activities/{activity}/feedback-token"),
        Call("POST", "/api/v1/activities/{activity}/signups", {"member_id": "{member}"}),
        Call("POST", "/api/v1/activities/{activity}/confirm", {"attendees": [{"member_id": "{member}"}]}),
    ],
    "posts and shifts": [
        Call("POST", "/api/v1/posts", {"org_unit_id": "{outside}", "name": "巡逻岗", "rule_code": "{rule}"}),
        Call("GET", "/api/v1/posts/{post}"),
        Call("GET", "/api/v1/posts/{post}/holders"),
        Call("GET", "/api/v1/posts/{post}/shifts"),
        Call(
            "POST",
            "/api/v1/posts/{post}/shifts",
            {
                "member_id": "{holder}",
                "windows": [{"starts_at": "2030-01-01T09:00:00+08:00", "ends_at": "2030-01-01T11:00:00+08:00"}],
            },
        ),
        Call("POST", "/api/v1/post-claims/{post_claim}/reject", {"reason": "人满了"}),
        Call("POST", "/api/v1/post-claims/{post_claim}/approve"),
        Call(
            "POST",
            "/api/v1/shifts/{shift}/verify",
            {"checked_in_at": "2030-01-01T09:00:00+08:00", "checked_out_at": "2030-01-01T10:00:00+08:00"},
        ),
        Call("GET", "/api/v1/duty/attendance", params={"org_unit_id": "{outside}"}),
        Call("PATCH", "/api/v1/posts/{post}", {"active": True}),
    ],
    "wishes": [
        Call("POST", "/api/v1/wishes", {"org_unit_id": "{outside}", "title": "修门", "resident_name": "周老"}),
        Call("GET", "/api/v1/wishes/{wish}"),
        Call("POST", "/api/v1/wishes/{wish}/verify"),
        Call("POST", "/api/v1/wishes/{wish}/send-back", {"reason": "没修好"}),
        Call("POST", "/api/v1/wishes/{wish}/cancel"),
    ],
    "reports": [
        Call("GET", "/api/v1/reports/{report}"),
        Call("GET", "/api/v1/reports/stats", params={"org_unit_id": "{outside}", **PERIOD}),
        Call(
            "POST",
            "/api/v1/reports",
            {"category": "hazard", "place": "楼道", "description": "堆物", "member_id": "{member}"},
        ),
        Call("POST", "/api/v1/reports/{report}/reject", {"reason": "重复"}),
        Call("POST", "/api/v1/reports/{report}/resolve", {"resolution": "已处理"}),
        Call("POST", "/api/v1/reports/{report}/escalate"),
        Call("POST", "/api/v1/reports/{report}/accept"),
    ],
    "claims": [
        Call("GET", "/api/v1/claims/{claim}"),
        Call("POST", "/api/v1/claims", {"rule_code": "{claim_rule}", "member_id": "{member}"}),
        Call("POST", "/api/v1/claims/{claim}/reject", {"reason": "材料不全"}),
        Call("POST", "/api/v1/claims/{claim}/approve"),
    ],
    "registrations": [
        Call("GET", "/api/v1/registrations", params={"org_unit_id": "{outside}", **PERIOD}),
        Call(
            "POST",
            "/api/v1/registrations",
            {"member_id": "{in_service}", "community_id": "{outside}", "workplace": "区税务局"},
        ),
    ],
    "proxies": [
        Call("POST", "/api/v1/proxies", {"proxy_member_id": "{in_service}", "org_unit_id": "{outside}"}),
        Call("POST", "/api/v1/proxies", {"proxy_member_id": "{inside_member}", "member_id": "{member}"}, by_admin=True),
        Call("DELETE", "/api/v1/proxies/{proxy}"),
    ],
    "merchants and applications": [
        Call("GET", "/api/v1/admin/merchants/{merchant}"),
        Call(
            "POST",
            "/api/v1/admin/merchants",
            {
                "name": "新店",
                "address": "路1号",
                "org_unit_id": "{outside}",
                "username": "shop-{outside}",
                "password": PASSWORD,
            },
        ),
        Call(
            "POST", "/api/v1/admin/merchants/{merchant}/clerks", {"username": "clerk-{merchant}", "password": PASSWORD}
        ),
        Call("PATCH", "/api/v1/admin/merchants/{merchant}", {"status": "active"}),
        Call("PATCH", "/api/v1/admin/merchants/{merchant}/clerks/{clerk}", {"active": True}),
        Call("PATCH", "/api/v1/admin/merchants/{application}", {"status": "active"}),
    ],
    "evaluations": [
        Call(
            "POST",
            "/api/v1/admin/evaluations",
            {
                "name": "考评",
                "org_unit_id": "{outside}",
                "target": "all",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "metrics": [{"metric": "earned_points", "weight": 1}],
                "top_n": 0,
            },
        ),
        Call("GET", "/api/v1/admin/evaluations/{evaluation}"),
        Call("GET", "/api/v1/admin/evaluations/{evaluation}/results"),
        Call("GET", "/api/v1/admin/evaluations/{evaluation}/results/{member}"),
        Call("PATCH", "/api/v1/admin/evaluations/{evaluation}", {"top_n": 1}),
        Call("POST", "/api/v1/admin/evaluations/{evaluation}/run"),
    ],
    "warnings": [
        Call("GET", "/api/v1/admin/warnings", params={"org_unit_id": "{outside}"}),
        Call("GET", "/api/v1/admin/warnings/daily", params={"org_unit_id": "{outside}"}),
    ],
    "leaderboards": [
        Call("GET", "/api/v1/leaderboards", params={"org_unit_id": "{outside}"}),
        Call("GET", "/api/v1/leaderboards", params={"org_unit_id": "{outside}", "period": "all"}),
    ],
}

CALLS = [
    pytest.param(call, id=f"{family}: {call.method} {call.path}")
    for family, calls in EVERY_FAMILY.items()
    for call in calls
]


@pytest.mark.parametrize("call", CALLS)
async def test_staff_get_404_for_what_lies_outside_their_subtree(reach: Reach, call: Call) -> None:
    path, body, params = call.fill(reach.ids)

    refused = await reach.staff.request(call.method, path, json=body, params=params)
    allowed = await (reach.community.admin if call.by_admin else reach.neighbour).request(
        call.method, path, json=body, params=params
    )

    assert refused.status_code == 404, refused.text
    assert code_of(refused) == "not_found"
    assert allowed.status_code not in (403, 404), allowed.text


async def test_a_leaderboard_read_from_the_process_cache_still_refuses_a_unit_outside(reach: Reach) -> None:
    # Both units' paths are remembered after these reads, so the refusal below needs no SQL.
    own = await reach.staff.get("/api/v1/leaderboards")
    other = await reach.neighbour.get("/api/v1/leaderboards")

    refused = await reach.staff.get("/api/v1/leaderboards", params={"org_unit_id": reach.ids["outside"]})

    assert own.status_code == other.status_code == 200, (own.text, other.text)
    assert refused.status_code == 404 and code_of(refused) == "not_found"


def test_no_code_but_the_org_reach_tests_a_path_prefix() -> None:
    # A hand-written `path.startswith(scope)` is how a reach rule goes missing in a refactor.
    owner = Path("points_service/org/reach.py")
    # Prefix tests of URL paths (which routes belong to the JSON API), not of org unit paths.
    url_paths = {Path("points_service/openapi.py"), Path("points_service/api_headers.py")}
    found = [
        f"{source}:{number}: {line.strip()}"
        for package in ("points_service", "merchants", "admin")
        for source in sorted(ROOT.joinpath(package).rglob("*.py"))
        if source.relative_to(ROOT) != owner and source.relative_to(ROOT) not in url_paths
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1)
        if ".startswith(" in line and "path" in line.lower()
    ]

    assert found == []
