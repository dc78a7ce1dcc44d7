"""The marketplace's part of `points-service demo`: two shops of the community, each with a clerk and
rewards members can redeem their points for."""

from __future__ import annotations

from merchants.accounts.service import MerchantService
from merchants.rewards.service import RewardService
from points_service.demo_scene import DemoLogin, DemoScene

SHOPS = [
    (
        "红旗便民超市",
        "红旗路 18 号",
        [("食用油一桶 (5L)", 300, 20), ("洗衣液一瓶", 150, 30), ("鸡蛋一盒 (10 枚)", 80, None)],
    ),
    ("阳光理发店", "红旗路 22 号", [("理发一次", 100, None), ("老人上门理发", 60, 10)]),
]


async def load_shops(scene: DemoScene) -> list[DemoLogin]:
    merchants = MerchantService(scene.session, scene.principal.tenant_id, scene.org, scene.ledger)
    rewards = RewardService(scene.session, scene.principal.tenant_id)
    logins = []
    for number, (name, address, offered) in enumerate(SHOPS, start=1):
        username = f"{scene.prefix}-clerk{number}"
        merchant = await merchants.register(name, address, scene.community_id, username, scene.password)
        for title, price, stock in offered:
            await rewards.create(
                merchant.id,
                {"title": title, "description": f"{name}兑换", "points_price": price, "stock": stock},
            )
        logins.append(DemoLogin(username, scene.password, f"店员 clerk · {name}", "/merchant/"))
    return logins
