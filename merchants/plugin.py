"""The marketplace's one face to the application: its API and clerk page, the redemption and fulfilment
batches, the expiry sweep (a scheduled job, and `points-service sweep`), its tables and what `points-service
reconcile` proves about its redemptions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import click
from litestar.types import ControllerRouterHandler

from merchants.accounts import models as account_models
from merchants.accounts.clerks import MerchantShopClerks
from merchants.redemptions import models as redemption_models
from merchants.redemptions.group_fulfil import FulfilBatches, fulfil_batches
from merchants.redemptions.group_redeem import RedeemBatches, redeem_batches
from merchants.redemptions.reconcile import REDEMPTION_CHECKS
from merchants.redemptions.stock import give_back_abandoned
from merchants.redemptions.sweep import REDEMPTION_SWEEP, STOCK_SWEEP, sweep_expired, warn_expiring
from merchants.rewards import models as reward_models
from merchants.routes import MERCHANT_TEMPLATES, marketplace_routers, merchant_page_routers
from merchants.web.member_rewards import member_reward_routers
from merchants.web.shop_desk import SHOP_APPLICATIONS, shop_screens
from points_service.accounts.clerks import ShopClerks
from points_service.approvals import PendingSource
from points_service.command_env import migrate_to_head, resolved_settings, with_sessions
from points_service.demo_scene import DemoScene
from points_service.jobs import Work
from points_service.ledger.reconcile import InvariantCheck
from points_service.package_plugin import PackagePlugin
from points_service.state import AppState
from points_service.web import Page

logger = logging.getLogger(__name__)


class MerchantsState(AppState):
    redeem_batches: RedeemBatches
    fulfil_batches: FulfilBatches
    # The staff console's view of shops and their clerks (points_service/accounts/clerks.py).
    shop_clerks: ShopClerks


@click.command()
def sweep() -> None:
    """Expire pending redemptions past their time, and give back stock taken by batches that never committed
    (the job queue's worker also does both every minute)."""
    with resolved_settings() as settings:
        migrate_to_head(settings)
        click.echo(f"expired {asyncio.run(with_sessions(settings, sweep_expired))} redemptions")
        click.echo(f"reminded {asyncio.run(with_sessions(settings, warn_expiring))} codes about to expire")
        click.echo(f"gave back {asyncio.run(with_sessions(settings, give_back_abandoned))} items of abandoned stock")


async def _give_back_abandoned_stock(state: MerchantsState) -> None:
    try:
        await give_back_abandoned(state.side_session_factory)
    except Exception:
        # The minute's job does it later; a start-up is not refused for stock.
        logger.exception("giving back abandoned stock at start-up failed")


class MerchantsPlugin(PackagePlugin):
    models = (account_models, reward_models, redemption_models)

    def api_routers(self) -> Sequence[ControllerRouterHandler]:
        return marketplace_routers()

    def page_routers(self) -> Sequence[ControllerRouterHandler]:
        # The member page's rewards tab is the marketplace's: it is served from here, beside the clerk's page.
        return [*merchant_page_routers(), *member_reward_routers()]

    def template_directories(self) -> Sequence[Path]:
        return [MERCHANT_TEMPLATES]

    def commands(self) -> Sequence[click.Command]:
        return [sweep]

    def screens_on(self, pages: Mapping[str, Page]) -> Sequence[ControllerRouterHandler]:
        return shop_screens(pages)

    def pending_sources(self) -> Sequence[PendingSource]:
        return [SHOP_APPLICATIONS]

    def reconcile_checks(self) -> Sequence[InvariantCheck]:
        return REDEMPTION_CHECKS

    def jobs(self) -> Sequence[Work]:
        return [REDEMPTION_SWEEP, STOCK_SWEEP]

    async def demo(self, scene: DemoScene) -> None:
        from merchants.demo import load_shops

        await load_shops(scene)

    @asynccontextmanager
    async def running(self, state: AppState) -> AsyncIterator[None]:
        merchants = MerchantsState(state)
        merchants.redeem_batches = redeem_batches(merchants)
        merchants.fulfil_batches = fulfil_batches(merchants)
        merchants.shop_clerks = MerchantShopClerks()
        # Stock a process that died (this one's predecessor, say) left taken goes back at once, not at
        # the next minute's job, should the queue's worker run elsewhere or not at all.
        await _give_back_abandoned_stock(merchants)
        try:
            yield
        finally:
            await merchants.redeem_batches.close()
            await merchants.fulfil_batches.close()
