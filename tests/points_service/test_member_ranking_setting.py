"""A tenant can turn public ranking off for members (some communities do after complaints): members then
see only their own rank, or no ranks at all; staff always see the whole board."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Community
from tests.points_service.test_leaderboards import ranking


async def two_members_with_points(community: Community) -> tuple[str, httpx.AsyncClient]:
    unit = await community.org_unit()
    rule = await community.rule(points=10)
    first = await community.member(unit, name="张三", login=True)
    second = await community.member(unit, name="李四", login=True)
    await community.award(first["id"], rule, quantity=2)
    await community.award(second["id"], rule, quantity=5)
    return unit, await community.client_for(first["username"])


async def set_ranking(community: Community, value: str) -> httpx.Response:
    return await community.admin.patch("/api/v1/admin/settings", json={"member_ranking": value})


def seen(board: dict[str, Any]) -> tuple[list[tuple[int, str, int]], Any]:
    return [(item["rank"], item["display_name"], item["points"]) for item in board["items"]], board["me"]


async def test_by_default_members_see_the_masked_board_and_their_own_rank(community: Community) -> None:
    _, phone = await two_members_with_points(community)

    board = await ranking(phone)

    assert board["member_ranking"] == "public"
    assert seen(board) == ([(1, "李*", 50), (2, "张*", 20)], {"rank": 2, "points": 20})


async def test_own_rank_only_shows_a_member_their_own_rank(community: Community) -> None:
    _, phone = await two_members_with_points(community)

    changed = await set_ranking(community, "own_rank")
    board = await ranking(phone)

    assert changed.status_code == 200 and changed.json() == {"member_ranking": "own_rank"}
    assert seen(board) == ([], {"rank": 2, "points": 20})


async def test_hidden_shows_members_no_ranks_while_staff_still_see_everything(community: Community) -> None:
    unit, phone = await two_members_with_points(community)
    staff = await community.staff(unit)

    await set_ranking(community, "hidden")
    board = await ranking(phone)
    staff_board = await ranking(staff)

    assert seen(board) == ([], None)
    assert seen(staff_board) == ([(1, "李四", 50), (2, "张三", 20)], None)


async def test_only_an_admin_changes_the_setting_and_only_to_a_known_value(community: Community) -> None:
    unit, phone = await two_members_with_points(community)
    staff = await community.staff(unit)

    by_staff = await staff.patch("/api/v1/admin/settings", json={"member_ranking": "hidden"})
    by_member = await phone.patch("/api/v1/admin/settings", json={"member_ranking": "hidden"})
    unknown = await set_ranking(community, "friends_only")

    assert by_staff.status_code == 403
    assert by_member.status_code == 403
    assert unknown.status_code == 400
    assert (await staff.get("/api/v1/admin/settings")).json() == {"member_ranking": "public"}
