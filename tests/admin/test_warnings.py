"""Early warnings: members gone quiet and rewards run out, counted per child unit."""

from __future__ import annotations

from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop


async def test_members_without_earned_points_are_warned_and_counted_per_unit(community: Community) -> None:
    root = await community.org_unit()
    east = await community.org_unit("东区", "area", root)
    west = await community.org_unit("西区", "area", root)
    active = await community.member(east, name="张活跃")
    quiet_east = await community.member(east, name="李安静")
    quiet_west = await community.member(west, name="王安静")
    await community.award(active["id"], await community.rule(points=5))

    body = (await community.admin.get("/api/v1/admin/warnings", params={"org_unit_id": root})).json()

    inactive = next(check for check in body["checks"] if check["kind"] == "inactive_members")
    assert {item["member_id"] for item in inactive["items"]} == {quiet_east["id"], quiet_west["id"]}
    assert inactive["counts_per_unit"] == {east: 1, west: 1}


async def test_sold_out_rewards_are_warned_and_unsourced_checks_say_so(community: Community) -> None:
    root = await community.org_unit()
    await shop(community, root, stock=0)

    body = (await community.admin.get("/api/v1/admin/warnings", params={"org_unit_id": root})).json()

    by_kind = {check["kind"]: check for check in body["checks"]}
    assert [item["title"] for item in by_kind["rewards_without_stock"]["items"]] == ["大米5斤"]
    assert by_kind["posts_without_holder"]["available"] is False
