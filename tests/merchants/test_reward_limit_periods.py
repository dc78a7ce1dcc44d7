"""Per-period limits (communities allow, say, one redemption per member per quarter): the limit counts
only redemptions made in the current tenant-local calendar period."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop
from tests.merchants.test_redemptions import (
    Sessions,
    assert_reconciles,
    balance_of,
    member_with_points,
    problem_code,
    redeem,
)


async def move_to_last_year(sessions: Sessions, community: Community, redemption_id: str) -> None:
    """Stands in for time passing: the redemption was made (and handed over) a year ago."""
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE redemptions SET created_at = created_at - interval '1 year', "
                "expires_at = expires_at - interval '1 year' WHERE tenant_id = :tenant AND id = :id"
            ),
            {"tenant": community.tenant_id, "id": uuid.UUID(redemption_id)},
        )


async def test_a_once_a_quarter_reward_refuses_a_second_redemption_in_the_same_quarter(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, per_member_limit=1, limit_period="quarter")
    await redeem(phone, reward_id)

    again = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert problem_code(again) == (409, "limit_reached")
    assert "quarter" in again.json()["detail"]
    assert await balance_of(phone) == (80, 20, 100)
    await assert_reconciles(sessions, community)


async def test_a_redemption_of_an_earlier_period_no_longer_counts(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit, per_member_limit=1, limit_period="quarter")
    first = await redeem(phone, reward_id)
    assert (await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": first["code"]})).status_code == 200
    await move_to_last_year(sessions, community, first["id"])

    again = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert again.status_code == 201, again.text
    await assert_reconciles(sessions, community)


async def test_without_a_period_the_same_old_redemption_still_counts(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit, per_member_limit=1)
    first = await redeem(phone, reward_id)
    assert (await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": first["code"]})).status_code == 200
    await move_to_last_year(sessions, community, first["id"])

    again = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert problem_code(again) == (409, "limit_reached")


async def test_a_period_without_a_limit_or_an_unknown_period_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit)

    no_limit = await clerk.post(
        "/api/v1/merchant/rewards", json={"title": "米", "points_price": 5, "limit_period": "month"}
    )
    unknown = await clerk.post(
        "/api/v1/merchant/rewards",
        json={"title": "米", "points_price": 5, "per_member_limit": 1, "limit_period": "week"},
    )
    patched = await clerk.patch(f"/api/v1/merchant/rewards/{reward_id}", json={"limit_period": "year"})

    assert no_limit.status_code == 400 and no_limit.json()["code"] == "validation_error"
    assert unknown.status_code == 400
    assert patched.status_code == 400
    [reward] = (await clerk.get("/api/v1/merchant/rewards")).json()["items"]
    assert reward["limit_period"] is None


async def test_a_clerk_sets_a_period_on_an_existing_reward(community: Community) -> None:
    unit = await community.org_unit()
    clerk, _, reward_id = await shop(community, unit)

    patched = await clerk.patch(
        f"/api/v1/merchant/rewards/{reward_id}", json={"per_member_limit": 2, "limit_period": "month"}
    )

    assert patched.status_code == 200, patched.text
    assert (patched.json()["per_member_limit"], patched.json()["limit_period"]) == (2, "month")


async def test_the_merchant_page_sets_a_quarterly_limit_and_explains_a_missing_limit(community: Community) -> None:
    import httpx

    from tests.merchants.test_merchant_page import csrf_token, sign_in_over_http

    unit = await community.org_unit()
    clerk, _, _ = await shop(community, unit)
    username = (await clerk.get("/api/v1/me")).json()["username"]
    async with httpx.AsyncClient(base_url=community.base_url, timeout=60) as web:
        await sign_in_over_http(web, username)
        token = await csrf_token(web, "/merchant/rewards")
        fields = {"title": "理发", "points_price": "30", "redemption_window_hours": "72", "_csrf_token": token}

        missing = await web.post("/merchant/rewards/", data={**fields, "limit_period": "quarter"})
        saved = await web.post(
            "/merchant/rewards/", data={**fields, "limit_period": "quarter", "per_member_limit": "1"}
        )

    assert missing.status_code == 400
    assert "按周期限兑时，请填写每人限兑数量" in missing.text
    assert saved.status_code == 303, saved.text
    periods = {
        item["title"]: item["limit_period"] for item in (await clerk.get("/api/v1/merchant/rewards")).json()["items"]
    }
    assert periods == {"大米5斤": None, "理发": "quarter"}
