"""The marketplace end to end: a reward redeemed, shown, fulfilled at the counter, down to the ledger."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PASSWORD, Community, unique


async def shop(community: Community, unit: str, **reward: Any) -> tuple[httpx.AsyncClient, str, str]:
    clerk_username = unique("clerk")
    response = await community.admin.post(
        "/api/v1/admin/merchants",
        json={
            "name": "红星超市",
            "address": "幸福路1号",
            "org_unit_id": unit,
            "username": clerk_username,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    merchant_id = response.json()["id"]
    clerk = await community.client_for(clerk_username)
    created = await clerk.post("/api/v1/merchant/rewards", json={"title": "大米5斤", "points_price": 20, **reward})
    assert created.status_code == 201, created.text
    return clerk, merchant_id, created.json()["id"]


async def test_redeem_and_fulfil_moves_points_member_to_hold_to_merchant(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="欧阳娜娜", login=True)
    await community.adjust(member["id"], 100)
    clerk, _, reward_id = await shop(community, unit, stock=5)
    phone = await community.client_for(member["username"])

    catalogue = (await phone.get("/api/v1/rewards")).json()["items"]
    assert [(item["id"], item["stock"], item["merchant"]["name"]) for item in catalogue] == [(reward_id, 5, "红星超市")]
    redeemed = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 2})
    assert redeemed.status_code == 201, redeemed.text
    code = redeemed.json()["code"]
    assert redeemed.json()["points"] == 40 and redeemed.json()["status"] == "pending"
    assert (await phone.get("/api/v1/me/balance")).json()["available"] == 60
    assert (await phone.get("/api/v1/me/balance")).json()["held"] == 40
    assert (await phone.get("/api/v1/rewards")).json()["items"][0]["stock"] == 3

    typed = code.lower()
    verified = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": typed})
    assert verified.status_code == 200, verified.text
    assert verified.json()["member"]["display_name"] == "欧***"
    assert verified.json()["status"] == "pending"
    fulfilled = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": typed.replace("-", "")})
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["status"] == "fulfilled"
    again = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": code})
    assert again.status_code == 409
    assert again.json()["code"] == "not_pending"

    balance = (await phone.get("/api/v1/me/balance")).json()
    assert (balance["available"], balance["held"], balance["earned_total"]) == (60, 0, 100)
    kinds = [line["kind"] for line in (await phone.get("/api/v1/me/ledger")).json()["items"]]
    assert kinds == ["redemption_fulfil", "redemption_hold", "adjustment"]
    qr = await phone.get(f"/api/v1/me/redemptions/{redeemed.json()['id']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    # The member is told the reward was handed over, once, although the clerk tried the code twice.
    told = (await phone.get("/api/v1/me/messages")).json()["items"]
    handed_over = [item for item in told if item["kind"] == "redemption_fulfilled"]
    assert [item["params"]["redemption_id"] for item in handed_over] == [redeemed.json()["id"]], told
    assert "用去 40 积分" in handed_over[0]["text"], handed_over


async def test_cancel_returns_points_and_stock(community: Community) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    await community.adjust(member["id"], 30)
    _, _, reward_id = await shop(community, unit, stock=1)
    phone = await community.client_for(member["username"])
    redemption = (await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json()

    cancelled = await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    balance = (await phone.get("/api/v1/me/balance")).json()
    assert (balance["available"], balance["held"]) == (30, 0)
    assert (await phone.get("/api/v1/rewards")).json()["items"][0]["stock"] == 1


async def test_ledger_reconciles_after_every_redemption_path(community: Community, sessions: Any) -> None:
    from points_service.app import reconcile_all

    unit = await community.org_unit()
    member = await community.member(unit, login=True)
    await community.adjust(member["id"], 200)
    clerk, _, reward_id = await shop(community, unit, stock=10)
    phone = await community.client_for(member["username"])
    codes = [(await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})).json() for _ in range(3)]
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": codes[0]["code"]})
    await phone.post(f"/api/v1/me/redemptions/{codes[1]['id']}/cancel")

    async with sessions() as session:
        checks = await reconcile_all(session, tenant_id=community.tenant_id)

    assert [check.name for check in checks if not check.ok] == []
    assert all(check.examined > 0 for check in checks if "redemption" in check.name)
