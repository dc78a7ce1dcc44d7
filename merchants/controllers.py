"""The marketplace over HTTP: staff manage merchants, clerks manage rewards and settle codes,
members browse, redeem and cancel."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State

from merchants.accounts.applications import MerchantApplications
from merchants.accounts.service import MerchantService
from merchants.deps import code_guess_limit
from merchants.redemptions import group_fulfil, group_redeem
from merchants.redemptions.codes import qr_svg
from merchants.redemptions.counter import CodeAtDesk
from merchants.redemptions.group_fulfil import ClerkFulfil
from merchants.redemptions.group_redeem import MemberRedeem
from merchants.redemptions.models import status_now
from merchants.redemptions.schemas import (
    CounterRedemption,
    FulfilledRedemption,
    MaskedMember,
    RedeemRequest,
    RedemptionPage,
    RedemptionState,
    RedemptionView,
    redemption_body,
)
from merchants.redemptions.service import RedemptionService
from merchants.rewards.service import RewardService, read_catalogue
from merchants.schemas import (
    CataloguePage,
    ClerkCreate,
    ClerkPatch,
    ClerkView,
    CodeRequest,
    MerchantApplication,
    MerchantCreate,
    MerchantPage,
    MerchantUpdate,
    MerchantView,
    RedemptionCreate,
    RewardCreate,
    RewardPage,
    RewardPatch,
    RewardView,
    catalogue_item,
    listed_merchant,
    merchant_body,
    reward_body,
    sent_fields,
)
from points_service.auth.guards import guarded_get
from points_service.auth.principal import Principal
from points_service.idempotency.service import IdempotencyKey, KeyClaim
from points_service.org.names import mask_name
from points_service.pagination import Cursor, Limit, decode_cursor, next_page


class MerchantAdminController(Controller):
    path = "/merchants"
    tags = ["admin: merchants"]

    @post("/", summary="Register a merchant and its first clerk")
    async def register(self, data: MerchantCreate, merchant_accounts: MerchantService) -> MerchantView:
        merchant = await merchant_accounts.register(
            data.name.strip(), data.address.strip(), data.org_unit_id, data.username, data.password
        )
        return merchant_body(merchant)

    @get("/", summary="Merchants in the caller's subtree, newest first (status=pending: applications)")
    async def list_merchants(
        self,
        merchant_accounts: MerchantService,
        status: Literal["pending", "active", "suspended", "refused"] | None = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> MerchantPage:
        rows = await merchant_accounts.in_reach_listed(status, limit + 1, decode_cursor(cursor))
        items = [listed_merchant(merchant) for merchant in rows]
        return MerchantPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))

    @get("/{merchant_id:uuid}", summary="A merchant in the caller's subtree")
    async def read(self, merchant_id: uuid.UUID, merchant_accounts: MerchantService) -> MerchantView:
        return merchant_body(await merchant_accounts.in_reach(merchant_id))

    @post("/{merchant_id:uuid}/clerks", summary="Add a clerk login to a merchant")
    async def add_clerk(
        self, merchant_id: uuid.UUID, data: ClerkCreate, merchant_accounts: MerchantService
    ) -> ClerkView:
        clerk = await merchant_accounts.add_clerk(merchant_id, data.username, data.password)
        return ClerkView(clerk.id, clerk.username)

    @patch("/{merchant_id:uuid}/clerks/{clerk_id:uuid}", summary="Switch a clerk's login off or on")
    async def update_clerk(
        self,
        merchant_id: uuid.UUID,
        clerk_id: uuid.UUID,
        data: ClerkPatch,
        merchant_accounts: MerchantService,
        state: State,
    ) -> ClerkView:
        clerk = await merchant_accounts.set_clerk_active(merchant_id, clerk_id, data.active, state.account_states)
        return ClerkView(clerk.id, clerk.username, clerk.is_active)

    @patch("/{merchant_id:uuid}", summary="Suspend, re-activate or edit a merchant")
    async def update(
        self, merchant_id: uuid.UUID, data: MerchantUpdate, merchant_accounts: MerchantService
    ) -> MerchantView:
        merchant = await merchant_accounts.update(merchant_id, data.status, data.name, data.address, data.honours)
        return merchant_body(merchant)


class MerchantApplicationController(Controller):
    path = "/merchant-applications"
    tags = ["merchant applications"]

    @post("/", summary="A shop applies to join; it starts pending until staff approve it", security=[])
    async def apply(
        self, data: MerchantApplication, request: Request, applications: MerchantApplications
    ) -> MerchantView:
        client = request.client.host if request.client else "unknown"
        merchant = await applications.apply(
            data.org_unit_id, data.name.strip(), data.address.strip(), data.username, data.password, client
        )
        return merchant_body(merchant)


class ClerkController(Controller):
    tags = ["merchant"]

    @post("/rewards", summary="Offer a reward")
    async def create_reward(self, data: RewardCreate, principal: Principal, rewards: RewardService) -> RewardView:
        assert principal.merchant_id is not None
        return reward_body(await rewards.create(principal.merchant_id, sent_fields(data)))

    @patch("/rewards/{reward_id:uuid}", summary="Edit, restock, deactivate a reward")
    async def update_reward(
        self, reward_id: uuid.UUID, data: RewardPatch, principal: Principal, rewards: RewardService
    ) -> RewardView:
        assert principal.merchant_id is not None
        return reward_body(await rewards.update(principal.merchant_id, reward_id, sent_fields(data)))

    @get("/rewards", summary="This merchant's rewards")
    async def list_rewards(self, principal: Principal, rewards: RewardService) -> RewardPage:
        assert principal.merchant_id is not None
        items = [reward_body(reward) for reward in await rewards.list_for_merchant(principal.merchant_id)]
        return RewardPage(items, next_cursor=None)

    @post("/redemptions/verify", status_code=200, summary="Look a code up; changes nothing")
    async def verify(
        self, data: CodeRequest, principal: Principal, redemptions: RedemptionService
    ) -> CounterRedemption:
        assert principal.merchant_id is not None
        view = await redemptions.verify(principal.merchant_id, data.code)
        found = redemption_body(view.redemption, view.status, view.reward_title)
        return CounterRedemption(**msgspec.structs.asdict(found), member=MaskedMember(mask_name(view.member_name)))

    @post("/redemptions/fulfil", status_code=200, summary="Hand the reward over: settle the code (idem)")
    async def fulfil(
        self,
        data: CodeRequest,
        request: Request,
        principal: Principal,
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[FulfilledRedemption]:
        assert principal.merchant_id is not None
        # Written by group commit with concurrent fulfilments at this merchant (group_fulfil.py).
        claim = (
            None
            if idempotency_key is None
            else KeyClaim.of(principal.account_id, idempotency_key, request.url.path, data)
        )
        code = CodeAtDesk(data.code, principal.account_id, code_guess_limit(state, principal))
        return await group_fulfil.fulfil(state, ClerkFulfil(principal.tenant_id, principal.merchant_id, code, claim))


class MemberMarketController(Controller):
    tags = ["me: rewards"]

    @guarded_get("/rewards", summary="Rewards I may redeem")
    async def catalogue(
        self, principal: Principal, state: State, limit: Limit = 50, cursor: Cursor = None
    ) -> CataloguePage:
        assert principal.member_id is not None
        # No session: one statement on the hot-read pool.
        rows = await read_catalogue(
            state.read_pool, principal.tenant_id, principal.member_id, limit + 1, decode_cursor(cursor)
        )
        items = [catalogue_item(row) for row in rows]
        return CataloguePage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))

    @post("/me/redemptions", summary="Redeem a reward: hold the points, take the stock, get a code (idem)")
    async def redeem(
        self,
        data: RedemptionCreate,
        request: Request,
        principal: Principal,
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionView]:
        assert principal.member_id is not None
        # Written by group commit with concurrent redemptions (merchants/redemptions/group_redeem.py).
        claim = (
            None
            if idempotency_key is None
            else KeyClaim.of(principal.account_id, idempotency_key, request.url.path, data)
        )
        item = MemberRedeem(
            principal.tenant_id, RedeemRequest(principal.member_id, data.reward_id, data.quantity), claim
        )
        return await group_redeem.redeem(state, item)

    @get("/me/redemptions", summary="My redemptions, newest first")
    async def mine(
        self, principal: Principal, redemptions: RedemptionService, limit: Limit = 50, cursor: Cursor = None
    ) -> RedemptionPage:
        assert principal.member_id is not None
        rows = await redemptions.mine(principal.member_id, limit + 1, decode_cursor(cursor))
        items = [redemption_body(redemption, status_now(redemption), title) for redemption, title in rows]
        return RedemptionPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))

    @get("/me/redemptions/{redemption_id:uuid}/qr.svg", media_type="image/svg+xml", summary="QR of my code")
    async def qr(self, redemption_id: uuid.UUID, principal: Principal, redemptions: RedemptionService) -> str:
        assert principal.member_id is not None
        return qr_svg((await redemptions.member_redemption(principal.member_id, redemption_id)).code)

    @post("/me/redemptions/{redemption_id:uuid}/cancel", status_code=200, summary="Cancel a pending redemption")
    async def cancel(
        self, redemption_id: uuid.UUID, principal: Principal, redemptions: RedemptionService
    ) -> RedemptionState:
        assert principal.member_id is not None
        redemption = await redemptions.cancel(principal.member_id, redemption_id)
        return RedemptionState(redemption.id, redemption.status)
