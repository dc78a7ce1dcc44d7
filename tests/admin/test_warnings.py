"""Early warnings: members gone quiet and rewards run out, counted per child unit."""

from __future__ import annotations

from tests.conftest import Community
from tests.merchants.test_redemption_flow import shop
from tests.points_service.test_duty import create_post, holder, one_shift


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


async def test_sold_out_rewards_are_warned(community: Community) -> None:
    root = await community.org_unit()
    await shop(community, root, stock=0)

    body = (await community.admin.get("/api/v1/admin/warnings", params={"org_unit_id": root})).json()

    by_kind = {check["kind"]: check for check in body["checks"]}
    assert [item["title"] for item in by_kind["rewards_without_stock"]["items"]] == ["大米5斤"]
    assert all(check["available"] for check in body["checks"])


async def test_unregistered_in_service_members_unheld_posts_and_missed_shifts_are_warned(
    community: Community,
) -> None:
    root = await community.org_unit()
    east = await community.org_unit("东区", "area", root)
    west = await community.org_unit("西区", "area", root)
    unregistered = await community.member(east, name="钱未报", party_status="in_service")
    registered = await community.member(west, name="孙已报", party_status="in_service")
    assert (
        await community.admin.post(
            "/api/v1/registrations",
            json={"member_id": registered["id"], "community_id": root, "workplace": "区财政局"},
        )
    ).status_code == 200
    rule = await community.rule(points=10, category="duty", unit="hour")
    held = await create_post(community.admin, west, rule, "环境卫生岗")
    await create_post(community.admin, east, rule, "安全信息岗")
    member, _ = await holder(community, west, held, "周缺岗")
    await one_shift(community.admin, held, member["id"], -30, -28)  # missed

    body = (await community.admin.get("/api/v1/admin/warnings", params={"org_unit_id": root})).json()

    by_kind = {check["kind"]: check for check in body["checks"]}
    assert [i["name"] for i in by_kind["in_service_not_registered"]["items"]] == [unregistered["name"]]
    assert by_kind["in_service_not_registered"]["counts_per_unit"] == {east: 1, west: 0}
    assert [i["name"] for i in by_kind["posts_without_holder"]["items"]] == ["安全信息岗"]
    [missed] = by_kind["low_duty_attendance"]["items"]
    assert (missed["name"], missed["due"], missed["attended"], missed["rate"]) == ("周缺岗", 1, 0, 0.0)
    assert by_kind["low_duty_attendance"]["counts_per_unit"] == {east: 0, west: 1}
