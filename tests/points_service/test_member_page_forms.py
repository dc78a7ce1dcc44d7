"""The member page's forms over plain HTTP (a browser that runs no script): per-object checks on codes and
their QR, the tenant's ranking setting, CSRF, the wrong door for staff, repeated forms, checking in at an
activity that checks the place (by form, and in a browser through check_in.js), signing out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Community, ServedApp
from tests.merchants.test_merchant_page import CSRF_FIELD
from tests.merchants.test_redemption_flow import shop
from tests.points_service.test_activities import create_activity, current_token
from tests.points_service.test_member_page import browser, page, screenshot, sign_in

__all__ = ["browser", "page"]

MESSAGE = re.compile(r'id="message">([^<]*)<')
# The activity's place, and a point about 30 m away from it.
PLACE = {"latitude": 31.2304, "longitude": 121.4737}
NEARBY = {"latitude": 31.2306, "longitude": 121.4739}

Phone = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def phone(served: ServedApp) -> AsyncIterator[Phone]:
    """Signs a member in at /member/ with the form, as a browser without script would."""
    clients: list[httpx.AsyncClient] = []

    async def signed_in(username: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=served.base_url, timeout=60, follow_redirects=False)
        clients.append(client)
        answer = await post_form(client, "/member/", "/member/login", username=username, password=PASSWORD)
        assert answer.status_code == 303 and answer.headers["location"] == "/member/", answer.text
        return client

    yield signed_in
    for client in clients:
        await client.aclose()


async def post_form(web: httpx.AsyncClient, page_path: str, action: str, **fields: str) -> httpx.Response:
    found = CSRF_FIELD.search((await web.get(page_path)).text)
    assert found, f"no form on {page_path}"
    return await web.post(action, data={"_csrf_token": found.group(1), **fields})


async def said_after(web: httpx.AsyncClient, answer: httpx.Response) -> str:
    """The message the page shows after an action's redirect."""
    assert answer.status_code == 303, answer.text
    found = MESSAGE.search((await web.get(answer.headers["location"])).text)
    return found.group(1) if found else ""


async def redeemed(web: httpx.AsyncClient, reward_id: str, key: str = "key-1") -> httpx.Response:
    return await post_form(web, "/member/rewards", f"/member/rewards/{reward_id}/redeem", key=key)


async def my_codes(community: Community, username: str) -> list[dict[str, Any]]:
    api = await community.client_for(username)
    return list((await api.get("/api/v1/me/redemptions")).json()["items"])


async def member_and_activity(community: Community, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A member who may sign in, and an activity of their unit starting in five minutes."""
    unit = await community.org_unit()
    member = await community.member(unit, name="王小红", login=True)
    activity = await create_activity(community.admin, unit, await community.rule(points=5), starts_in=5, **fields)
    return member, activity


@dataclass
class TwoNeighbours:
    """A member who redeemed a reward (`code`: as their API lists it) and a neighbour, both signed in."""

    owner: dict[str, Any]
    owners_phone: httpx.AsyncClient
    others_phone: httpx.AsyncClient
    redeemed: httpx.Response
    code: dict[str, Any]


async def two_neighbours(community: Community, phone: Phone) -> TwoNeighbours:
    unit = await community.org_unit()
    owner = await community.member(unit, name="王小红", login=True)
    other = await community.member(unit, name="李四", login=True)
    await community.adjust(owner["id"], 50)
    _, _, reward_id = await shop(community, unit)
    owners_phone, others_phone = await phone(owner["username"]), await phone(other["username"])
    answer = await redeemed(owners_phone, reward_id)
    code = (await my_codes(community, owner["username"]))[0]
    return TwoNeighbours(owner, owners_phone, others_phone, answer, code)


async def test_a_member_gets_the_qr_of_their_own_code_and_not_of_anothers(community: Community, phone: Phone) -> None:
    both = await two_neighbours(community, phone)
    code_id = both.code["id"]

    own = await both.owners_phone.get(f"/member/redemptions/{code_id}/qr.svg")
    anothers = await both.others_phone.get(f"/member/redemptions/{code_id}/qr.svg")
    shown = await both.others_phone.get(f"/member/rewards?shown={code_id}")

    assert both.redeemed.headers["location"] == f"/member/rewards?shown={code_id}"
    assert own.status_code == 200 and own.headers["content-type"].startswith("image/svg+xml")
    assert own.text.lstrip().startswith("<svg")
    assert anothers.status_code == 404 and "找不到" in anothers.text and "<svg" not in anothers.text
    assert shown.status_code == 200 and 'id="code-dialog"' not in shown.text and both.code["code"] not in shown.text


async def test_a_member_cannot_cancel_anothers_code(community: Community, phone: Phone) -> None:
    both = await two_neighbours(community, phone)
    web = both.others_phone
    cancel = f"/member/redemptions/{both.code['id']}/cancel"

    said = await said_after(web, await post_form(web, "/member/rewards", cancel))

    assert said == "找不到，或者您不能查看"
    assert (await my_codes(community, both.owner["username"]))[0]["status"] == "pending"


async def test_the_same_redeem_form_sent_twice_is_one_redemption(community: Community, phone: Phone) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="王小红", login=True)
    await community.adjust(member["id"], 50)
    _, _, reward_id = await shop(community, unit, points_price=20)
    web = await phone(member["username"])

    first = await redeemed(web, reward_id, key="same-press")
    second = await redeemed(web, reward_id, key="same-press")

    assert first.headers["location"] == second.headers["location"]
    assert len(await my_codes(community, member["username"])) == 1
    assert (await community.balance(member))["available"] == 30


async def test_a_refused_redemption_says_why_and_keeps_the_points(community: Community, phone: Phone) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="王小红", login=True)
    await community.adjust(member["id"], 50)
    _, _, reward_id = await shop(community, unit, points_price=20, stock=1)
    web = await phone(member["username"])
    await redeemed(web, reward_id, key="first")

    said = await said_after(web, await redeemed(web, reward_id, key="second"))

    assert said == "这件商品已经兑完了"
    assert (await community.balance(member))["available"] == 30


async def test_the_history_shows_twenty_lines_and_loads_more_on_request(community: Community, phone: Phone) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="王小红", login=True)
    for points in range(1, 26):
        assert (await community.adjust(member["id"], points, f"第{points}次服务")).status_code == 201
    web = await phone(member["username"])

    first = (await web.get("/member/")).text
    more = re.search(r'id="history-more"[^>]*href="([^"]+)"', first)
    assert more, first
    everything = (await web.get(more.group(1))).text

    lines = re.compile(r"第(\d+)次服务")
    assert [int(n) for n in lines.findall(first)] == list(range(25, 5, -1))
    assert [int(n) for n in lines.findall(everything)] == list(range(25, 0, -1))
    assert 'id="history-more"' not in everything


@pytest.mark.parametrize(("ranking", "shows_rank"), [("public", True), ("own_rank", True), ("hidden", False)])
async def test_the_home_page_shows_the_rank_as_the_tenant_allows(
    community: Community, phone: Phone, ranking: str, shows_rank: bool
) -> None:
    unit = await community.org_unit("红旗社区")
    member = await community.member(unit, name="王小红", login=True)
    await community.adjust(member["id"], 30)
    changed = await community.admin.patch("/api/v1/admin/settings", json={"member_ranking": ranking})
    assert changed.status_code == 200, changed.text

    home = (await (await phone(member["username"])).get("/member/")).text

    assert ('id="rank"' in home) is shows_rank
    assert ("本月在红旗社区排名第 1 位（30 分）" in home) is shows_rank


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(community: Community, phone: Phone) -> None:
    member, activity = await member_and_activity(community)
    web = await phone(member["username"])

    forged = await web.post(f"/member/activities/{activity['id']}/sign-up", data={})
    signups = (await (await community.client_for(member["username"])).get("/api/v1/me/activities")).json()["items"]

    assert forged.status_code == 403 and forged.headers["content-type"].startswith("text/html")
    assert "页面已过期" in forged.text
    assert signups == []


async def test_staff_are_sent_to_their_own_page(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit()
    staff_username = (await (await community.staff(unit)).get("/api/v1/me")).json()["username"]

    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        answer = await post_form(web, "/member/", "/member/login", username=staff_username, password=PASSWORD)
        home = await web.get("/member/", follow_redirects=False)

    assert answer.status_code == 403
    assert "此页面供党员群众使用" in answer.text and "/admin/" in answer.text
    assert 'id="sign-in-form"' in home.text and 'id="available"' not in home.text


async def test_signing_out_ends_the_session(community: Community, phone: Phone) -> None:
    unit = await community.org_unit()
    member = await community.member(unit, name="王小红", login=True)
    web = await phone(member["username"])
    refresh = web.cookies.get("rp_member_refresh")

    said = await said_after(web, await post_form(web, "/member/", "/member/logout"))
    home = await web.get("/member/")
    renewed = await community.anonymous.post("/api/v1/auth/refresh", json={"refresh_token": refresh})

    assert said == "已退出登录"
    assert 'id="sign-in-form"' in home.text and 'id="available"' not in home.text
    assert renewed.status_code == 401


async def test_an_activity_that_checks_the_place_takes_the_location_with_the_code(
    community: Community, phone: Phone
) -> None:
    member, activity = await member_and_activity(community, radius_m=200, **PLACE)
    web = await phone(member["username"])
    await post_form(web, "/member/activities", f"/member/activities/{activity['id']}/sign-up")
    check_in = f"/member/activities/{activity['id']}/check-in"
    token = await current_token(community.admin, activity["id"])

    details = f"/member/activities/{activity['id']}"
    without_place = await said_after(web, await post_form(web, details, check_in, token=token))
    far_away = await said_after(
        web, await post_form(web, details, check_in, token=token, latitude="31.3", longitude="121.5")
    )
    nearby = {name: str(value) for name, value in NEARBY.items()}
    on_site = await said_after(web, await post_form(web, details, check_in, token=token, **nearby))

    assert without_place == "这个活动需要定位才能签到，请允许获取位置"
    assert far_away == "您离活动地点太远，请到现场签到"
    assert on_site == "签到成功。工作人员确认考勤后，积分会发到您的账户"


async def test_the_browser_sends_its_position_when_the_activity_checks_the_place(
    community: Community, page: Any
) -> None:
    from playwright.async_api import expect

    member, activity = await member_and_activity(community, radius_m=200, **PLACE)
    await page.context.grant_permissions(["geolocation"])
    await page.context.set_geolocation(NEARBY)

    await sign_in(page, member["username"])
    await page.click("[data-tab=activities]")
    row = page.locator(f"#activity-list li[data-activity='{activity['id']}']")
    await expect(row).to_contain_text("签到时需要定位")
    await row.locator("button").click()
    await expect(page.locator("#message")).to_have_text("报名成功")
    await row.locator("text=去签到").click()
    await page.fill("#check-in-code", await current_token(community.admin, activity["id"]))
    await page.click("#check-in")

    await expect(page.locator("#message")).to_have_text("签到成功。工作人员确认考勤后，积分会发到您的账户")
    await screenshot(page, "08-checked-in-on-site")


def test_every_word_the_member_page_shows_is_in_both_languages() -> None:
    from merchants.redemptions.models import REDEMPTION_STATUSES
    from merchants.web import TEMPLATE_DIRECTORY as REWARDS_TEMPLATES
    from merchants.web.member_rewards import REWARDS_PAGE
    from points_service.ledger.models import TRANSACTION_KINDS
    from points_service.mobile import TEMPLATE_DIRECTORY
    from points_service.mobile.page import MEMBER_PAGE

    used = re.compile(r"""\bt(?:\.(\w+)|\[["'](\w+)["']\])""")

    def keys_in(path: Path) -> set[str]:
        # `t.get(...)` looks a word up by a name made at render time (the ledger kinds, checked below).
        return {dotted or indexed for dotted, indexed in used.findall(path.read_text())} - {"get"}

    own = set(MEMBER_PAGE.catalogue.words("zh-CN"))
    with_rewards = set(REWARDS_PAGE.catalogue.words("zh-CN"))
    assert MEMBER_PAGE.catalogue.missing() == {} and REWARDS_PAGE.catalogue.missing() == {}
    for template in (TEMPLATE_DIRECTORY / "member").glob("*.html"):
        assert keys_in(template) <= own, template.name
    assert keys_in(REWARDS_TEMPLATES / "member" / "rewards.html") <= with_rewards
    shown_by_name = (
        {f"kind_{kind}" for kind in TRANSACTION_KINDS}
        | {f"shift_{status}" for status in ("scheduled", "on_duty", "completed", "missed")}
        | {"signed_up", "checked_in", "checked_out", "not_a_member", "session_ended", "signed_out"}
    )
    assert shown_by_name <= own
    assert {f"status_{status}" for status in REDEMPTION_STATUSES} | {"redeemed", "cancelled"} <= with_rewards
