"""The member page's rewards tab (/member/rewards): the catalogue, redeeming (the code shown large with its
QR), the member's codes and cancelling one.

Served by the merchants package because rewards and redemptions are its own: the core's member page
(points_service/mobile) lends it the page (session, headers, problem pages, words, the tab bar in
`member/base.html`) and this module adds the screens with their words, so `points_service` imports
nothing from `merchants`. The handlers call the same services as the member API (merchants/controllers.py
MemberMarketController) with the signed-in member's Principal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.deps import SHARED
from merchants.redemptions import group_redeem
from merchants.redemptions.codes import display
from merchants.redemptions.group_redeem import MemberRedeem
from merchants.redemptions.models import status_now
from merchants.redemptions.schemas import RedeemRequest, RedemptionView
from merchants.redemptions.service import RedemptionService
from merchants.rewards.service import RewardService
from merchants.schemas import RedemptionCreate
from points_service.auth.principal import Principal
from points_service.errors import DomainError
from points_service.idempotency.service import KeyClaim
from points_service.ledger.service import LedgerService
from points_service.mobile.inbox_screen import member_with_unread
from points_service.mobile.page import MEMBER_PAGE, stored_refusal
from points_service.qr import qr_svg
from points_service.web import Message, local_time

AnyRequest = Request[Any, Any, Any]
REWARDS_PATH = "/member/rewards"
CATALOGUE_SHOWN = 100
CODES_SHOWN = 20

ZH_CN: dict[str, str] = {
    "catalogue": "可兑换的商品和服务",
    "empty_catalogue": "暂时没有可兑换的商品",
    "my_codes": "我的兑换码",
    "empty_codes": "还没有兑换记录",
    "points": "{points} 分",
    "stock_left": "剩余 {stock}",
    "sold_out": "已兑完",
    "redeem": "兑换",
    "redeemed": "兑换成功，请到店出示兑换码",
    "show_code": "出示兑换码",
    "cancel": "取消",
    "cancelled": "已取消，积分已退回",
    "expires": "有效期至 {at}",
    "close": "关闭",
    "status_pending": "待使用",
    "status_fulfilled": "已使用",
    "status_cancelled": "已取消",
    "status_expired": "已过期",
    "insufficient_points": "积分不足，暂时不能兑换",
    "out_of_stock": "这件商品已经兑完了",
    "limit_reached": "已达到每人限兑数量",
    "reward_unavailable": "这件商品现在不能兑换",
    "merchant_suspended": "这家商户暂停服务，暂时不能兑换",
    "not_pending": "这个兑换码已经使用、取消或过期",
    "own_points_while_acting": "兑换用的是您自己的积分和兑换码，不是代办对象的",
}
EN: dict[str, str] = {
    "catalogue": "Rewards you can redeem",
    "empty_catalogue": "No rewards to redeem right now",
    "my_codes": "My codes",
    "empty_codes": "No redemptions yet",
    "points": "{points} points",
    "stock_left": "{stock} left",
    "sold_out": "Sold out",
    "redeem": "Redeem",
    "redeemed": "Redeemed: show the code at the shop",
    "show_code": "Show code",
    "cancel": "Cancel",
    "cancelled": "Cancelled: the points are back",
    "expires": "Valid until {at}",
    "close": "Close",
    "status_pending": "To use",
    "status_fulfilled": "Used",
    "status_cancelled": "Cancelled",
    "status_expired": "Expired",
    "insufficient_points": "Not enough points to redeem this",
    "out_of_stock": "This reward is sold out",
    "limit_reached": "You have reached the limit for this reward",
    "reward_unavailable": "This reward cannot be redeemed now",
    "merchant_suspended": "This shop is suspended: its rewards cannot be redeemed now",
    "not_pending": "This code has already been used, cancelled or has expired",
    "own_points_while_acting": "Redeeming uses your own points and codes, not those of whom you act for",
}
REWARDS_PAGE = MEMBER_PAGE.with_words({"zh-CN": ZH_CN, "en": EN})


@dataclass(frozen=True)
class CodeRow:
    id: uuid.UUID
    title: str
    code: str
    status: str
    expires_at: datetime


class MemberRewardsController(Controller):
    path = "/"

    @get("/rewards", name="member_page:rewards")
    async def rewards_tab(
        self,
        request: AnyRequest,
        principal: Principal,
        rewards: RewardService,
        redemptions: RedemptionService,
        ledger: LedgerService,
        shown: uuid.UUID | None = None,
    ) -> Template:
        assert principal.member_id is not None
        mine = await redemptions.mine(principal.member_id, CODES_SHOWN, None)
        codes = [
            CodeRow(redemption.id, title, display(redemption.code), status_now(redemption), redemption.expires_at)
            for redemption, title in mine
        ]
        return REWARDS_PAGE.render(
            request,
            "rewards",
            page_path=REWARDS_PATH,
            catalogue=await rewards.catalogue(principal.member_id, CATALOGUE_SHOWN, None),
            codes=codes,
            # `?shown=` opens a code of the member's own (the list above is theirs), and only a usable one.
            shown=next((row for row in codes if row.id == shown and row.status == "pending"), None),
            # One key per redeem button: a double tap is one redemption, a second press another.
            new_key=lambda: uuid.uuid4().hex,
            local=local_time(ledger.clock),
            tab="rewards",
        )

    @post("/rewards/{reward_id:uuid}/redeem", name="member_page:redeem")
    async def redeem(self, request: AnyRequest, reward_id: uuid.UUID, principal: Principal, state: State) -> Redirect:
        assert principal.member_id is not None
        key = str((await request.form()).get("key") or "").strip() or None
        try:
            # The API's own write: group commit with concurrent redemptions, guarded by the key.
            claim = (
                None
                if key is None
                else KeyClaim.of(principal.account_id, key, request.url.path, RedemptionCreate(reward_id=reward_id))
            )
            item = MemberRedeem(principal.tenant_id, RedeemRequest(principal.member_id, reward_id, 1), claim)
            answer = await group_redeem.redeem(state, item)
        except DomainError as error:
            return REWARDS_PAGE.redirect(request, REWARDS_PATH, REWARDS_PAGE.refusal(request, error))
        if answer.status_code >= 400:
            return REWARDS_PAGE.redirect(request, REWARDS_PATH, stored_refusal(REWARDS_PAGE, request, answer))
        # A first answer is the typed view; a replayed one is the body its key stored.
        written = (
            msgspec.convert(answer.content, RedemptionView) if isinstance(answer.content, dict) else answer.content
        )
        shown = f"{REWARDS_PATH}?shown={written.id}"
        return REWARDS_PAGE.redirect(request, shown, Message.done("redeemed"))

    @post("/redemptions/{redemption_id:uuid}/cancel", name="member_page:cancel_redemption")
    async def cancel(
        self,
        request: AnyRequest,
        redemption_id: uuid.UUID,
        principal: Principal,
        redemptions: RedemptionService,
        db_session: AsyncSession,
    ) -> Redirect:
        assert principal.member_id is not None
        member_id = principal.member_id

        async def cancel() -> Message:
            await redemptions.cancel(member_id, redemption_id)
            return Message.done("cancelled")

        return await REWARDS_PAGE.act(request, db_session, REWARDS_PATH, cancel)

    @get("/redemptions/{redemption_id:uuid}/qr.svg", media_type="image/svg+xml", name="member_page:redemption_qr")
    async def qr(self, redemption_id: uuid.UUID, principal: Principal, redemptions: RedemptionService) -> str:
        assert principal.member_id is not None
        # Only the member's own code: anyone else's is not found.
        return qr_svg((await redemptions.member_redemption(principal.member_id, redemption_id)).code)


def member_reward_routers() -> list[Router]:
    """The rewards tab of the member page, mounted beside the page's own routers at /member."""
    return [REWARDS_PAGE.screens([MemberRewardsController], {**SHARED, "principal": Provide(member_with_unread)})]
