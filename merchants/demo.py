"""The marketplace's part of `points-service demo`: two shops of the community, each with a clerk and
rewards members can redeem their points for."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from merchants.accounts.service import MerchantService
from merchants.redemptions.service import RedemptionService
from merchants.rewards.service import RewardService
from points_service.demo_scene import DemoScene

SHOPS = [
    (
        "红旗便民超市",
        "红旗路 18 号",
        [("食用油一桶 (5L)", 300, 20), ("洗衣液一瓶", 150, 30), ("鸡蛋一盒 (10 枚)", 80, None)],
    ),
    ("阳光理发店", "红旗路 22 号", [("理发一次", 100, None), ("老人上门理发", 60, 10)]),
]


async def load_shops(scene: DemoScene) -> None:
    merchants = MerchantService(scene.session, scene.principal.tenant_id, scene.org, scene.ledger)
    rewards = RewardService(scene.session, scene.principal.tenant_id)
    first_reward = None
    for number, (name, address, offered) in enumerate(SHOPS, start=1):
        username = f"{scene.prefix}-clerk{number}"
        merchant = await merchants.register(name, address, scene.community_id, username, scene.password)
        for title, price, stock in offered:
            reward = await rewards.create(
                merchant.id,
                {"title": title, "description": f"{name}兑换", "points_price": price, "stock": stock},
            )
            if stock is None and first_reward is None:
                first_reward = reward
    # The tour's member has a code waiting at the counter, so the clerk has something to fulfil. The
    # reward has no stock to take, so no side session commits anything outside the demo's transaction.
    assert first_reward is not None and scene.session.bind is not None
    redemptions = RedemptionService(
        scene.session, scene.principal.tenant_id, scene.ledger, async_sessionmaker(scene.session.bind), scene.clock
    )
    await redemptions.redeem(scene.member_ids[0], first_reward.id, 1)
