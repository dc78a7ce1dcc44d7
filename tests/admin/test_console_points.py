"""The console's points and rules screens over plain HTTP (forms as a browser sends them): the rules
catalogue created, edited and switched off by an admin and refused to staff; an award previewed and then
sent twice with its form's key, paid once; an adjustment and a reversal with their reasons; the landing
page and the favicon. The browser journeys are in test_console_activities.py."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.admin.test_console import CSRF_FIELD, staff_login
from tests.admin.test_console_work import signed_in_web
from tests.conftest import Community, ServedApp

KEY_FIELD = re.compile(r'name="key" value="([0-9a-f]+)"')
CODE_FIELD = re.compile(r'name="code" value="([A-Z0-9]+)"')


def csrf(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def notice(page: httpx.Response) -> str:
    found = re.search(r'<p class="(notice|alert)" role="\w+" id="[\w-]+">([^<]*)</p>', page.text)
    assert found, "no message on the page"
    return found.group(2)


async def send(web: httpx.AsyncClient, path: str, form: dict[str, Any], token: str) -> httpx.Response:
    """Post a form as the browser does and follow the see-other to the page that says what happened."""
    sent = await web.post(path, data={**form, "_csrf_token": token})
    assert sent.status_code == 303, sent.text[:800]
    return await web.get(sent.headers["location"])


async def test_an_admin_creates_edits_and_switches_off_a_rule_and_staff_only_read(
    community: Community, served: ServedApp
) -> None:
    web = await signed_in_web(served, community.admin_username)
    listed = await web.get("/admin/rules")
    assert "还没有积分规则" in listed.text
    form = {"name": "清扫楼道", "category": "volunteer", "points": "5", "unit": "each", "daily_cap": ""}
    form["code"] = CODE_FIELD.search(listed.text).group(1)  # type: ignore[union-attr]

    created = await send(web, "/admin/rules", form, csrf(listed))
    assert notice(created) == "积分规则已新建"
    assert "清扫楼道" in created.text and form["code"] not in created.text.split("<main>")[1].replace(
        f'value="{form["code"]}"', ""
    )
    again = await send(web, "/admin/rules", form, csrf(created))  # the same form sent twice
    assert "已存在" in notice(again) or "当前状态" in notice(again)
    rules = (await community.admin.get("/api/v1/admin/rules")).json()["items"]
    assert [(rule["name"], rule["points"]) for rule in rules] == [("清扫楼道", 5)]
    rule_id = rules[0]["id"]

    changed = await send(
        web,
        f"/admin/rules/{rule_id}/change",
        {"name": "清扫楼道", "daily_cap": "10", "monthly_cap": "", "back": "/admin/rules"},
        csrf(again),
    )
    assert notice(changed) == "积分规则已保存"
    switched = await send(web, f"/admin/rules/{rule_id}/switch-off", {"back": "/admin/rules"}, csrf(changed))
    assert notice(switched) == "积分规则已停用：今后不能再按它发放"
    rule = (await community.admin.get("/api/v1/admin/rules")).json()["items"][0]
    assert (rule["daily_cap"], rule["monthly_cap"], rule["active"]) == (10, None, False)
    unit = await community.org_unit()
    member = await community.member(unit)
    refused = await community.award(member["id"], rule["code"])
    assert refused.status_code == 404

    staff = await signed_in_web(served, await staff_login(community, unit))
    seen = await staff.get("/admin/rules")
    assert "清扫楼道" in seen.text and "积分规则由管理员新建和修改" in seen.text
    tried = await send(staff, f"/admin/rules/{rule_id}/switch-on", {"back": "/admin/rules"}, csrf(seen))
    assert "权限" in notice(tried)
    assert (await community.admin.get("/api/v1/admin/rules")).json()["items"][0]["active"] is False
    await web.aclose()
    await staff.aclose()


async def test_an_award_form_sent_twice_pays_once_and_says_so(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    rule = await community.rule(points=10)
    people = [await community.member(unit, name=name) for name in ("张一", "张二")]
    web = await signed_in_web(served, await staff_login(community, unit))

    picker = await web.get("/admin/points", params={"q": "张"})
    assert all(person["id"] in picker.text for person in people)
    preview = await web.post(
        "/admin/points/preview",
        data={
            "rule_code": rule,
            "quantity": "2",
            "note": "扫雪",
            "member_id": [person["id"] for person in people],
            "_csrf_token": csrf(picker),
        },
    )
    assert preview.status_code == 200, preview.text[:800]
    assert "共 2 人，合计 40 分" in preview.text and rule not in preview.text.replace(f'value="{rule}"', "")
    form = {
        "key": KEY_FIELD.search(preview.text).group(1),  # type: ignore[union-attr]
        "rule_code": rule,
        "quantity": "2",
        "note": "扫雪",
        "member_id": [person["id"] for person in people],
    }
    first = await send(web, "/admin/points/award", form, csrf(preview))
    assert notice(first) == "已发放：2 人，共 40 分"
    second = await send(web, "/admin/points/award", form, csrf(preview))
    assert notice(second) == "这张表已经提交过：2 人共 40 分只发放了一次，没有重复发放"
    for person in people:
        assert [line["amount"] for line in await community.ledger(person["id"])] == [20]
    await web.aclose()


async def test_a_whole_unit_is_previewed_member_by_member(community: Community, served: ServedApp) -> None:
    unit = await community.org_unit("红旗社区")
    building = await community.org_unit("3号楼", "group", unit)
    rule = await community.rule(points=3)
    for name in ("李一", "李二", "李三"):
        await community.member(building, name=name)
    await community.member(unit, name="别楼的")
    web = await signed_in_web(served, await staff_login(community, unit))
    picker = await web.get("/admin/points")

    preview = await web.post(
        "/admin/points/preview",
        data={"rule_code": rule, "quantity": "1", "whole_unit": building, "_csrf_token": csrf(picker)},
    )

    assert preview.text.count("<tr data-member=") == 3 and "别楼的" not in preview.text
    assert "共 3 人，合计 9 分" in preview.text
    empty = await web.post(
        "/admin/points/preview", data={"rule_code": rule, "quantity": "1", "_csrf_token": csrf(picker)}
    )
    assert empty.status_code == 303
    assert "填写有误" in notice(await web.get(empty.headers["location"]))
    await web.aclose()


async def test_an_adjustment_and_a_reversal_need_a_reason_and_happen_once(
    community: Community, served: ServedApp
) -> None:
    unit = await community.org_unit("红旗社区")
    member = await community.member(unit, name="王调整")
    web = await signed_in_web(served, community.admin_username)
    page = await web.get(f"/admin/points/members/{member['id']}")
    assert "还没有积分记录" in page.text
    key = KEY_FIELD.search(page.text).group(1)  # type: ignore[union-attr]

    adjusted = await send(
        web, f"/admin/points/members/{member['id']}/adjust", {"key": key, "amount": "15", "reason": "补录"}, csrf(page)
    )
    assert notice(adjusted) == "已调整 15 分，现有 15 分"
    again = await send(
        web, f"/admin/points/members/{member['id']}/adjust", {"key": key, "amount": "15", "reason": "补录"}, csrf(page)
    )
    assert notice(again) == "这张表已经提交过：调整 15 分只做了一次，现有 15 分"
    line = (await community.ledger(member["id"]))[0]
    assert '<td data-label="类型">调整</td>' in again.text
    await community.rule(points=2)
    one = await web.get("/admin/points", params={"member": member["id"]})
    assert one.text.count("<tr data-member=") == 1 and f'id="pick-{member["id"]}" checked' in one.text

    reversed_page = await send(
        web,
        f"/admin/points/transactions/{line['transaction_id']}/reverse",
        {"key": KEY_FIELD.findall(again.text)[-1], "member_id": member["id"], "reason": "录错了"},
        csrf(again),
    )
    assert notice(reversed_page) == "已冲正 -15 分，现有 0 分"
    assert [entry["kind"] for entry in await community.ledger(member["id"])] == ["reversal", "adjustment"]
    await web.aclose()


async def test_the_landing_page_links_the_three_pages_and_there_is_a_favicon(served: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        landing = await web.get("/")
        icon = await web.get("/favicon.ico")
        english = await web.get("/", params={"lang": "en"})

    assert landing.status_code == 200 and landing.headers["content-type"].startswith("text/html")
    for link, words in (("/member/", "居民"), ("/merchant/", "商户"), ("/admin/", "社区工作人员")):
        assert f'href="{link}"' in landing.text and words in landing.text
    assert "Content-Security-Policy" in landing.headers
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    assert "Community staff" in english.text
