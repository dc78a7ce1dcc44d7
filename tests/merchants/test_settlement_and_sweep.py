"""Month-end statements and the expiry sweep."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import text

from merchants.redemptions.sweep import sweep_expired
from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop


async def test_statement_lists_this_months_fulfilments_and_matches_totals(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    await community.adjust(member["id"], 100)
    clerk, merchant_id, reward_id = await shop(community, unit)
    phone = await community.client_for(member["username"])
    codes = [
        (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()["code"] for _ in range(3)
    ]
    for code in codes[:2]:
        assert (await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": code})).status_code == 200

    statement = (await clerk.get("/api/v1/merchant/statement")).json()
    totals = (await community.admin.get("/api/v1/admin/settlements")).json()["items"]

    assert (statement["count"], statement["points"]) == (2, 40)
    assert sorted(item["code"] for item in statement["items"]) == sorted(codes[:2])
    assert [(t["merchant"]["id"], t["count"], t["points"]) for t in totals] == [(merchant_id, 2, 40)]


async def test_statement_csv_opens_with_chinese_header(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    await community.adjust(member["id"], 100)
    clerk, _, reward_id = await shop(community, unit)
    phone = await community.client_for(member["username"])
    code = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()["code"]
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": code})

    response = await clerk.get("/api/v1/merchant/statement", params={"format": "csv"})

    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["核销时间", "兑换码", "商品", "数量", "积分"]
    assert rows[1][1:] == [code, "大米5斤", "1", "20"]


async def test_statement_for_another_month_is_empty_and_bad_month_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, _ = await shop(community, unit)

    empty = (await clerk.get("/api/v1/merchant/statement", params={"month": "2020-01"})).json()
    bad = await clerk.get("/api/v1/merchant/statement", params={"month": "2020-13"})

    assert (empty["count"], empty["points"], empty["items"]) == (0, 0, [])
    assert bad.status_code == 400


async def test_sweep_expires_due_codes_and_gives_points_and_stock_back(community: Community, sessions: Any) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    await community.adjust(member["id"], 50)
    _, _, reward_id = await shop(community, unit, stock=3)
    phone = await community.client_for(member["username"])
    redemption = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE redemptions SET expires_at = now() - interval '1 minute' WHERE id = :id"),
            {"id": redemption["id"]},
        )

    assert await sweep_expired(sessions) >= 1

    mine = (await phone.get("/api/v1/me/redemptions")).json()["items"]
    assert [(item["id"], item["status"]) for item in mine] == [(redemption["id"], "expired")]
    balance = (await phone.get("/api/v1/me/balance")).json()
    assert (balance["available"], balance["held"], balance["earned_total"]) == (50, 0, 50)
    assert (await phone.get("/api/v1/rewards")).json()["items"][0]["stock"] == 3
    assert (await phone.get("/api/v1/me/ledger")).json()["items"][0]["kind"] == "redemption_release"


async def test_clerk_guessing_codes_is_stopped_after_twenty_misses(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, _ = await shop(community, unit)
    guesses = [f"ZZZZ-{n:04d}" for n in range(20)]

    misses = [await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": code}) for code in guesses]
    blocked = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": "ZZZZ-9999"})

    assert {response.status_code for response in misses} == {404}
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_attempts"
    assert int(blocked.headers["Retry-After"]) > 0
