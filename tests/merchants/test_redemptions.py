"""The redemption lifecycle down to the ledger lines: pending, fulfilled, cancelled, expired; codes as
people type them; idempotent redeem and fulfil; the member's list of redemptions."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.redemptions.codes import normalise
from merchants.redemptions.service import RedemptionService
from points_service.app import reconcile_all
from points_service.database.session import provide_db_session
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.tenancy.periods import TenantClock
from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop

Sessions = async_sessionmaker[AsyncSession]
CODE_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


# -- helpers shared by the marketplace test modules -------------------------------------------------


async def member_with_points(
    community: Community, unit: str, points: int, name: str = "张三"
) -> tuple[dict[str, Any], httpx.AsyncClient]:
    """A member who can log in, given `points` by an adjustment, and their signed-in phone."""
    member = await community.member(unit, name=name, login=True)
    if points:
        adjusted = await community.adjust(member["id"], points, "开户")
        assert adjusted.status_code == 201, adjusted.text
    return member, await community.client_for(member["username"])


async def balance_of(phone: httpx.AsyncClient) -> tuple[int, int, int]:
    """(available, held, earned_total) as the member reads them."""
    response = await phone.get("/api/v1/me/balance")
    assert response.status_code == 200, response.text
    body = response.json()
    return body["available"], body["held"], body["earned_total"]


async def my_ledger(phone: httpx.AsyncClient) -> list[tuple[str, int]]:
    """The member's own ledger lines, newest first, as (kind, amount)."""
    response = await phone.get("/api/v1/me/ledger", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [(line["kind"], line["amount"]) for line in response.json()["items"]]


async def staff_ledger(community: Community, member_id: str) -> list[tuple[str, int]]:
    return [(line["kind"], line["amount"]) for line in await community.ledger(member_id)]


async def redeem(phone: httpx.AsyncClient, reward_id: str, quantity: int = 1) -> dict[str, Any]:
    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": quantity})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def catalogue_stock(phone: httpx.AsyncClient, reward_id: str) -> int | None:
    items = (await phone.get("/api/v1/rewards")).json()["items"]
    [stock] = [item["stock"] for item in items if item["id"] == reward_id]
    return stock


async def my_statuses(phone: httpx.AsyncClient) -> dict[str, str]:
    response = await phone.get("/api/v1/me/redemptions", params={"limit": 200})
    assert response.status_code == 200, response.text
    return {item["id"]: item["status"] for item in response.json()["items"]}


async def merchant_balance(sessions: Sessions, community: Community, merchant_id: str) -> int:
    async with sessions() as session:
        balance = await session.scalar(
            # A merchant's points are spread over its stripes (docs/ledger.md).
            text("SELECT sum(balance) FROM ledger_accounts WHERE tenant_id = :tenant AND merchant_id = :merchant"),
            {"tenant": community.tenant_id, "merchant": uuid.UUID(merchant_id)},
        )
    return int(balance)


async def make_past_due(sessions: Sessions, community: Community, redemption_id: str) -> None:
    """Time travel for one code: its window closed a minute ago (no sweep has run for it yet)."""
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE redemptions SET expires_at = now() - interval '1 minute' WHERE tenant_id = :tenant AND id = :id"
            ),
            {"tenant": community.tenant_id, "id": uuid.UUID(redemption_id)},
        )


async def assert_reconciles(sessions: Sessions, community: Community) -> None:
    async with sessions() as session:
        checks = await reconcile_all(session, tenant_id=community.tenant_id)
    assert [(check.name, check.breaches) for check in checks if not check.ok] == []


def problem_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code")


def at(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, f"{value} carries no offset"
    return moment


# -- pending ---------------------------------------------------------------------------------------


async def test_redeeming_moves_points_from_available_to_held_and_takes_stock(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=5)
    before = datetime.now(UTC)

    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 2})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["points"], body["quantity"]) == ("pending", 40, 2)
    assert CODE_SHAPE.match(body["code"]), body["code"]
    assert before + timedelta(hours=72) - timedelta(minutes=1) <= at(body["expires_at"])
    assert at(body["expires_at"]) <= datetime.now(UTC) + timedelta(hours=72)
    assert await balance_of(phone) == (60, 40, 100)
    assert await my_ledger(phone) == [("redemption_hold", -40), ("adjustment", 100)]
    assert await staff_ledger(community, member["id"]) == [("redemption_hold", -40), ("adjustment", 100)]
    assert await catalogue_stock(phone, reward_id) == 3
    assert await my_statuses(phone) == {body["id"]: "pending"}
    await assert_reconciles(sessions, community)


async def test_redeeming_more_than_the_balance_is_refused_and_writes_nothing(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 39)
    _, _, reward_id = await shop(community, unit, stock=5)

    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 2})

    assert problem_code(response) == (409, "insufficient_points")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await balance_of(phone) == (39, 0, 39)
    assert await my_ledger(phone) == [("adjustment", 39)]
    assert await catalogue_stock(phone, reward_id) == 5
    assert await my_statuses(phone) == {}
    await assert_reconciles(sessions, community)


async def test_redeeming_more_than_the_stock_is_refused_and_writes_nothing(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 1000)
    _, _, reward_id = await shop(community, unit, stock=2)

    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 3})

    assert problem_code(response) == (409, "out_of_stock")
    assert await balance_of(phone) == (1000, 0, 1000)
    assert await my_ledger(phone) == [("adjustment", 1000)]
    assert await catalogue_stock(phone, reward_id) == 2
    await assert_reconciles(sessions, community)


async def test_a_redemption_rolled_back_after_taking_the_stock_gives_the_stock_back(
    community: Community, sessions: Sessions
) -> None:
    """The stock is taken in a statement committed on its own (a popular reward's row is not held
    to the request's commit); a request that then fails must not leave the reward short."""
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=3)
    request_scope = provide_db_session(
        SimpleNamespace(session_factory=sessions), SimpleNamespace(route_handler=SimpleNamespace(opt={}))
    )
    session = await anext(request_scope)
    ledger = LedgerService(LedgerRepository(session, community.tenant_id), TenantClock("Asia/Shanghai"), None)
    service = RedemptionService(session, community.tenant_id, ledger, sessions, ledger.clock, stock_sessions=sessions)

    await service.redeem(uuid.UUID(member["id"]), uuid.UUID(reward_id), 2)
    assert await catalogue_stock(phone, reward_id) == 1
    with pytest.raises(RuntimeError):
        await request_scope.athrow(RuntimeError("the request failed after the stock was taken"))

    assert await catalogue_stock(phone, reward_id) == 3
    assert await balance_of(phone) == (100, 0, 100)
    assert await my_statuses(phone) == {}
    await assert_reconciles(sessions, community)


async def test_per_member_limit_counts_pending_and_fulfilled_quantities(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 1000)
    clerk, _, reward_id = await shop(community, unit, per_member_limit=3)
    first = await redeem(phone, reward_id, quantity=2)
    assert (await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": first["code"]})).status_code == 200

    too_many = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 2})
    last = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 1})

    assert problem_code(too_many) == (409, "limit_reached")
    assert last.status_code == 201, last.text
    assert await balance_of(phone) == (940, 20, 1000)
    await assert_reconciles(sessions, community)


async def test_a_cancelled_redemption_no_longer_counts_against_the_per_member_limit(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 1000)
    _, _, reward_id = await shop(community, unit, per_member_limit=1)
    first = await redeem(phone, reward_id)
    assert (await phone.post(f"/api/v1/me/redemptions/{first['id']}/cancel")).status_code == 200

    again = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert again.status_code == 201, again.text
    await assert_reconciles(sessions, community)


async def test_a_quantity_outside_one_to_a_hundred_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 10_000)
    _, _, reward_id = await shop(community, unit, points_price=1)

    for quantity in (0, -1, 101, 1.5, None):
        response = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": quantity})
        assert problem_code(response) == (400, "validation_error"), quantity
        assert [error["field"] for error in response.json()["errors"]] == ["quantity"], response.text
    assert await my_statuses(phone) == {}


async def test_a_reward_id_that_is_not_a_uuid_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)

    response = await phone.post("/api/v1/me/redemptions", json={"reward_id": "大米"})

    assert problem_code(response) == (400, "validation_error")
    assert [error["field"] for error in response.json()["errors"]] == ["reward_id"]


async def test_a_hundred_of_one_reward_are_held_at_price_times_quantity(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 1000)
    _, _, reward_id = await shop(community, unit, points_price=7, stock=100)

    redemption = await redeem(phone, reward_id, quantity=100)

    assert (redemption["points"], redemption["quantity"]) == (700, 100)
    assert await balance_of(phone) == (300, 700, 1000)
    assert await catalogue_stock(phone, reward_id) == 0
    await assert_reconciles(sessions, community)


# -- fulfilled -------------------------------------------------------------------------------------


async def test_fulfilling_moves_held_points_to_the_merchant_with_a_zero_ledger_line(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit, stock=5)
    redemption = await redeem(phone, reward_id, quantity=2)

    fulfilled = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    assert fulfilled.status_code == 200, fulfilled.text
    assert (fulfilled.json()["id"], fulfilled.json()["status"]) == (redemption["id"], "fulfilled")
    assert await balance_of(phone) == (60, 0, 100)
    expected = [("redemption_fulfil", 0), ("redemption_hold", -40), ("adjustment", 100)]
    assert await my_ledger(phone) == expected
    assert await staff_ledger(community, member["id"]) == expected
    assert await merchant_balance(sessions, community, merchant_id) == 40
    assert await catalogue_stock(phone, reward_id) == 3
    assert await my_statuses(phone) == {redemption["id"]: "fulfilled"}
    await assert_reconciles(sessions, community)


async def test_verify_shows_the_clerk_a_masked_name_and_changes_nothing(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100, name="欧阳娜娜")
    clerk, _, reward_id = await shop(community, unit, stock=5)
    redemption = await redeem(phone, reward_id, quantity=3)

    verified = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": redemption["code"]})

    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["id"] == redemption["id"]
    assert body["status"] == "pending"
    assert body["reward"] == {"id": reward_id, "title": "大米5斤"}
    assert (body["quantity"], body["points"]) == (3, 60)
    assert body["member"] == {"display_name": "欧***"}
    assert at(body["expires_at"]) == at(redemption["expires_at"])
    assert await balance_of(phone) == (40, 60, 100)
    assert await my_statuses(phone) == {redemption["id"]: "pending"}


async def test_verify_still_answers_for_a_fulfilled_code_with_its_status(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    verified = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": redemption["code"]})

    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "fulfilled"


async def test_a_fulfilled_code_cannot_be_cancelled(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    cancelled = await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")

    assert problem_code(cancelled) == (409, "not_pending")
    assert await balance_of(phone) == (80, 0, 100)
    assert await merchant_balance(sessions, community, merchant_id) == 20
    assert [kind for kind, _ in await my_ledger(phone)] == ["redemption_fulfil", "redemption_hold", "adjustment"]
    await assert_reconciles(sessions, community)


# -- cancelled -------------------------------------------------------------------------------------


async def test_cancelling_returns_held_points_to_available_and_the_stock(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 100)
    _, merchant_id, reward_id = await shop(community, unit, stock=5)
    redemption = await redeem(phone, reward_id, quantity=2)

    cancelled = await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {"id": redemption["id"], "status": "cancelled"}
    assert await balance_of(phone) == (100, 0, 100)
    expected = [("redemption_release", 40), ("redemption_hold", -40), ("adjustment", 100)]
    assert await my_ledger(phone) == expected
    assert await staff_ledger(community, member["id"]) == expected
    assert await catalogue_stock(phone, reward_id) == 5
    assert await merchant_balance(sessions, community, merchant_id) == 0
    assert await my_statuses(phone) == {redemption["id"]: "cancelled"}
    await assert_reconciles(sessions, community)


async def test_a_cancelled_code_cannot_be_cancelled_again_or_fulfilled(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit, stock=5)
    redemption = await redeem(phone, reward_id)
    await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")

    again = await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")
    fulfil = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    assert problem_code(again) == (409, "not_pending")
    assert problem_code(fulfil) == (409, "not_pending")
    assert await balance_of(phone) == (100, 0, 100)
    assert await merchant_balance(sessions, community, merchant_id) == 0
    assert await catalogue_stock(phone, reward_id) == 5
    assert len(await my_ledger(phone)) == 3
    await assert_reconciles(sessions, community)


# -- expired ---------------------------------------------------------------------------------------


async def test_the_code_window_is_the_rewards_redemption_window_hours(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, redemption_window_hours=1)
    before = datetime.now(UTC)

    redemption = await redeem(phone, reward_id)

    expires_at = at(redemption["expires_at"])
    assert before + timedelta(hours=1) - timedelta(seconds=5) <= expires_at <= datetime.now(UTC) + timedelta(hours=1)


async def test_expires_at_is_never_after_the_rewards_valid_until(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    valid_until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    _, _, reward_id = await shop(community, unit, valid_until=valid_until.isoformat(), redemption_window_hours=72)

    redemption = await redeem(phone, reward_id)

    assert at(redemption["expires_at"]) == valid_until


async def test_a_past_due_code_reads_expired_before_any_sweep(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit, redemption_window_hours=1)
    redemption = await redeem(phone, reward_id)
    await make_past_due(sessions, community, redemption["id"])

    verified = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": redemption["code"]})

    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "expired"
    assert await my_statuses(phone) == {redemption["id"]: "expired"}
    await assert_reconciles(sessions, community)


async def test_fulfilling_a_past_due_code_is_refused_and_gives_the_points_back(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit, stock=4, redemption_window_hours=1)
    redemption = await redeem(phone, reward_id, quantity=2)
    await make_past_due(sessions, community, redemption["id"])

    fulfil = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})

    assert problem_code(fulfil) == (409, "not_pending")
    assert await balance_of(phone) == (100, 0, 100)
    expected = [("redemption_release", 40), ("redemption_hold", -40), ("adjustment", 100)]
    assert await my_ledger(phone) == expected
    assert await staff_ledger(community, member["id"]) == expected
    assert await merchant_balance(sessions, community, merchant_id) == 0
    assert await catalogue_stock(phone, reward_id) == 4
    assert await my_statuses(phone) == {redemption["id"]: "expired"}
    await assert_reconciles(sessions, community)


async def test_cancelling_a_past_due_code_is_refused_and_gives_the_points_back(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=4, redemption_window_hours=1)
    redemption = await redeem(phone, reward_id)
    await make_past_due(sessions, community, redemption["id"])

    cancel = await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")

    assert problem_code(cancel) == (409, "not_pending")
    assert await balance_of(phone) == (100, 0, 100)
    assert await my_ledger(phone) == [("redemption_release", 20), ("redemption_hold", -20), ("adjustment", 100)]
    assert await catalogue_stock(phone, reward_id) == 4
    assert await my_statuses(phone) == {redemption["id"]: "expired"}
    await assert_reconciles(sessions, community)


async def test_an_expired_code_stays_expired_for_verify_fulfil_and_cancel(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit, redemption_window_hours=1)
    redemption = await redeem(phone, reward_id)
    await make_past_due(sessions, community, redemption["id"])

    verified = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": redemption["code"]})
    fulfil = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})
    cancel = await phone.post(f"/api/v1/me/redemptions/{redemption['id']}/cancel")
    fulfil_again = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]})
    verified_after = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": redemption["code"]})

    assert verified.json()["status"] == "expired"
    assert problem_code(fulfil) == (409, "not_pending")
    assert problem_code(cancel) == (409, "not_pending")
    assert problem_code(fulfil_again) == (409, "not_pending")
    assert verified_after.json()["status"] == "expired"
    # Released exactly once, whoever touched it first.
    assert await my_ledger(phone) == [("redemption_release", 20), ("redemption_hold", -20), ("adjustment", 100)]
    assert await balance_of(phone) == (100, 0, 100)
    assert await merchant_balance(sessions, community, merchant_id) == 0
    await assert_reconciles(sessions, community)


async def test_an_expired_code_no_longer_counts_against_the_per_member_limit(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, per_member_limit=1, redemption_window_hours=1)
    first = await redeem(phone, reward_id)
    await make_past_due(sessions, community, first["id"])

    again = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id})

    assert again.status_code == 201, again.text
    await assert_reconciles(sessions, community)


async def test_earned_total_never_changes_through_hold_fulfil_cancel_and_expiry(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit, stock=10, redemption_window_hours=1)
    earned_before = (await phone.get("/api/v1/me/balance")).json()
    to_fulfil, to_cancel, to_expire = [await redeem(phone, reward_id) for _ in range(3)]
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": to_fulfil["code"]})
    await phone.post(f"/api/v1/me/redemptions/{to_cancel['id']}/cancel")
    await make_past_due(sessions, community, to_expire["id"])
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": to_expire["code"]})

    after = (await phone.get("/api/v1/me/balance")).json()

    for field in ("earned_total", "earned_this_month", "earned_this_year"):
        assert after[field] == earned_before[field] == 100, field
    assert (after["available"], after["held"]) == (80, 0)
    assert sorted((await my_statuses(phone)).values()) == ["cancelled", "expired", "fulfilled"]
    await assert_reconciles(sessions, community)


# -- codes -----------------------------------------------------------------------------------------


def test_normalise_ignores_case_spaces_and_hyphens() -> None:
    assert normalise("abcd-efgh") == "ABCDEFGH"
    assert normalise(" AB cd\tEF gh ") == "ABCDEFGH"
    assert normalise("abcdefgh") == "ABCDEFGH"
    assert normalise("a-b-c-d-e-f-g-h") == "ABCDEFGH"


def test_normalise_reads_o_as_zero_and_i_or_l_as_one() -> None:
    assert normalise("OoIi-Ll01") == "00111101"


def test_normalise_refuses_what_cannot_be_a_code() -> None:
    for typed in ("", "ABCD-EFG", "ABCD-EFGHJ", "ABCD-EFGU", "ABCD_EFGH", "ＡＢＣＤ-ＥＦＧＨ", "????-????"):
        assert normalise(typed) is None, typed


async def test_codes_are_eight_crockford_characters_shown_as_xxxx_xxxx(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 1000)
    _, _, reward_id = await shop(community, unit, points_price=1)

    codes = [(await redeem(phone, reward_id))["code"] for _ in range(20)]

    assert all(CODE_SHAPE.match(code) for code in codes), codes
    assert len(set(codes)) == 20
    listed = (await phone.get("/api/v1/me/redemptions")).json()["items"]
    assert sorted(item["code"] for item in listed) == sorted(codes)


async def test_verify_accepts_lower_case_spaces_and_no_hyphen(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)
    code = redemption["code"]

    for typed in (
        code.lower(),
        code.replace("-", ""),
        f" {code[:2]} {code[2:4]} {code[5:7]} {code[7:]} ",
        code.lower().replace("-", " "),
    ):
        verified = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": typed})
        assert verified.status_code == 200, (typed, verified.text)
        assert (verified.json()["id"], verified.json()["code"]) == (redemption["id"], code)


async def test_verify_and_fulfil_read_o_as_zero_and_i_or_l_as_one(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)
    # A code that certainly holds zeros and ones (a drawn one holds them only sometimes).
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE redemptions SET code = '10QR0T1W' WHERE tenant_id = :tenant AND id = :id"),
            {"tenant": community.tenant_id, "id": uuid.UUID(redemption["id"])},
        )

    verified = await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": "lOqr-OtIw"})
    fulfilled = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": "IoQR oTLW"})

    assert verified.status_code == 200, verified.text
    assert (verified.json()["id"], verified.json()["code"]) == (redemption["id"], "10QR-0T1W")
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["id"] == redemption["id"]
    assert await my_statuses(phone) == {redemption["id"]: "fulfilled"}


async def test_garbage_and_unknown_codes_are_not_found(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, _, reward_id = await shop(community, unit)
    real = (await redeem(phone, reward_id))["code"]
    unknown = "ZZZZ-ZZZZ" if real != "ZZZZ-ZZZZ" else "YYYY-YYYY"

    for typed in ("????-????", "ABCD", "ABCD-EFGU", f"{real}0", real[:-1], "DROP TABLE", "🙂🙂🙂🙂-🙂🙂🙂🙂", unknown):
        for action in ("verify", "fulfil"):
            response = await clerk.post(f"/api/v1/merchant/redemptions/{action}", json={"code": typed})
            assert problem_code(response) == (404, "not_found"), (typed, action, response.text)
    assert (await clerk.post("/api/v1/merchant/redemptions/verify", json={"code": real})).json()["status"] == "pending"


async def test_qr_code_is_an_svg_for_the_owner(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)

    qr = await phone.get(f"/api/v1/me/redemptions/{redemption['id']}/qr.svg")

    assert qr.status_code == 200, qr.text
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in qr.text


# -- idempotency -----------------------------------------------------------------------------------


async def test_redeeming_twice_with_one_idempotency_key_makes_one_redemption(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit, stock=5)
    headers = {"Idempotency-Key": f"redeem-{uuid.uuid4()}"}
    body = {"reward_id": reward_id, "quantity": 2}

    first = await phone.post("/api/v1/me/redemptions", json=body, headers=headers)
    second = await phone.post("/api/v1/me/redemptions", json=body, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert await balance_of(phone) == (60, 40, 100)
    assert await my_statuses(phone) == {first.json()["id"]: "pending"}
    assert await staff_ledger(community, member["id"]) == [("redemption_hold", -40), ("adjustment", 100)]
    assert await catalogue_stock(phone, reward_id) == 3
    await assert_reconciles(sessions, community)


async def test_a_refused_redemption_is_replayed_with_the_same_refusal(community: Community) -> None:
    unit = await community.org_unit()
    member, phone = await member_with_points(community, unit, 10)
    _, _, reward_id = await shop(community, unit)
    headers = {"Idempotency-Key": f"redeem-{uuid.uuid4()}"}

    first = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}, headers=headers)
    assert (await community.adjust(member["id"], 100)).status_code == 201
    second = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}, headers=headers)

    assert problem_code(first) == (409, "insufficient_points")
    assert (second.status_code, second.json()) == (409, first.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await my_statuses(phone) == {}


async def test_one_idempotency_key_with_another_redemption_body_is_refused(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit)
    headers = {"Idempotency-Key": f"redeem-{uuid.uuid4()}"}
    await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id}, headers=headers)

    other = await phone.post("/api/v1/me/redemptions", json={"reward_id": reward_id, "quantity": 2}, headers=headers)

    assert problem_code(other) == (422, "idempotency_key_reused")
    assert len(await my_statuses(phone)) == 1
    assert await balance_of(phone) == (80, 20, 100)


async def test_fulfilling_twice_with_one_idempotency_key_settles_once(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit)
    redemption = await redeem(phone, reward_id)
    headers = {"Idempotency-Key": f"fulfil-{uuid.uuid4()}"}

    first = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]}, headers=headers)
    second = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": redemption["code"]}, headers=headers)

    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert first.json()["status"] == "fulfilled"
    assert [kind for kind, _ in await my_ledger(phone)] == ["redemption_fulfil", "redemption_hold", "adjustment"]
    assert await merchant_balance(sessions, community, merchant_id) == 20
    await assert_reconciles(sessions, community)


async def test_one_idempotency_key_with_another_code_to_fulfil_is_refused(
    community: Community, sessions: Sessions
) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    clerk, merchant_id, reward_id = await shop(community, unit)
    first, second = await redeem(phone, reward_id), await redeem(phone, reward_id)
    headers = {"Idempotency-Key": f"fulfil-{uuid.uuid4()}"}
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": first["code"]}, headers=headers)

    other = await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": second["code"]}, headers=headers)

    assert problem_code(other) == (422, "idempotency_key_reused")
    assert await my_statuses(phone) == {first["id"]: "fulfilled", second["id"]: "pending"}
    assert await merchant_balance(sessions, community, merchant_id) == 20


async def test_a_bad_idempotency_key_is_a_validation_error(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 100)
    _, _, reward_id = await shop(community, unit)

    response = await phone.post(
        "/api/v1/me/redemptions", json={"reward_id": reward_id}, headers={"Idempotency-Key": "x" * 256}
    )

    assert problem_code(response) == (400, "validation_error")
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await my_statuses(phone) == {}


# -- the member's list -----------------------------------------------------------------------------


async def test_my_redemptions_list_newest_first_with_each_status(community: Community, sessions: Sessions) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 1000)
    clerk, _, reward_id = await shop(community, unit, redemption_window_hours=1)
    fulfilled, cancelled, expired, pending = [await redeem(phone, reward_id) for _ in range(4)]
    await clerk.post("/api/v1/merchant/redemptions/fulfil", json={"code": fulfilled["code"]})
    await phone.post(f"/api/v1/me/redemptions/{cancelled['id']}/cancel")
    await make_past_due(sessions, community, expired["id"])

    response = await phone.get("/api/v1/me/redemptions")

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(item["id"], item["status"]) for item in items] == [
        (pending["id"], "pending"),
        (expired["id"], "expired"),
        (cancelled["id"], "cancelled"),
        (fulfilled["id"], "fulfilled"),
    ]
    assert all(item["code"] and item["points"] == 20 and item["quantity"] == 1 for item in items)
    assert response.json()["next_cursor"] is None


async def test_my_redemptions_page_with_limit_and_next_cursor(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 1000)
    _, _, reward_id = await shop(community, unit)
    created = [(await redeem(phone, reward_id))["id"] for _ in range(5)]

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await phone.get("/api/v1/me/redemptions", params=params)
        assert response.status_code == 200, response.text
        pages.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item for page in pages for item in page] == list(reversed(created))


async def test_my_redemptions_list_refuses_a_limit_out_of_range(community: Community) -> None:
    unit = await community.org_unit()
    _, phone = await member_with_points(community, unit, 0)

    for limit in (0, 201):
        response = await phone.get("/api/v1/me/redemptions", params={"limit": limit})
        assert problem_code(response) == (400, "validation_error"), limit


async def test_my_redemptions_list_holds_only_my_own(community: Community) -> None:
    unit = await community.org_unit()
    _, mine = await member_with_points(community, unit, 100)
    _, theirs = await member_with_points(community, unit, 100, name="李四")
    _, _, reward_id = await shop(community, unit)
    my_redemption = await redeem(mine, reward_id)
    await redeem(theirs, reward_id)

    assert await my_statuses(mine) == {my_redemption["id"]: "pending"}
