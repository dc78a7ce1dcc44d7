"""The merchant web page at /merchant/: a clerk signs in, looks a member's code up, checks what to hand
over, confirms; manages the shop's rewards; reads the monthly statement.

Server-rendered forms, no build step. Every write is the JSON API's own service call
(RedemptionService.fulfil behind the same idempotent runner, RewardService.create/update); the page
only parses forms, renders and redirects. Sign-in, the session, CSRF, words, messages and problem pages
are the shared web layer's (points_service.web, through CLERK_PAGE in page.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.redemptions.codes import display, normalise
from merchants.redemptions.service import RedemptionService
from merchants.rewards.models import Reward
from merchants.rewards.service import RewardService
from merchants.schemas import CodeRequest
from merchants.settlement.service import SettlementService, parse_month
from merchants.web.forms import RewardForm, blank_form, changed_fields, form_of, read_reward_form
from merchants.web.page import CLERK_PAGE
from merchants.web.repository import CounterRecords, SettledLine
from points_service.auth.principal import Principal
from points_service.errors import DomainError, InvalidInput, NotFound, TooManyAttempts, domain_error_body
from points_service.exports import csv_text
from points_service.idempotency.service import IdempotentWrites
from points_service.ledger.service import LedgerService
from points_service.org.names import mask_name
from points_service.tenancy.periods import TenantClock
from points_service.web import Message, local_time

COUNTER_PATH = "/merchant/"
REWARDS_PATH = "/merchant/rewards"
STATEMENT_PATH = "/merchant/statement"
# What the clerk is told for a code that cannot be handed over, by the code's status.
STATUS_MESSAGES = {"fulfilled": "code_fulfilled", "expired": "code_expired", "cancelled": "code_cancelled"}
REFUSAL_MESSAGES = {
    "not_found": "code_not_found",
    "merchant_suspended": "merchant_suspended",
    "idempotency_in_progress": "in_progress",
    "too_many_attempts": "too_many_codes",
}

AnyRequest = Request[Any, Any, Any]


# -- rendering --------------------------------------------------------------------------------------


def day_bounds(day: date, clock: TenantClock) -> tuple[datetime, datetime]:
    return datetime.combine(day, time(), clock.zone), datetime.combine(day + timedelta(days=1), time(), clock.zone)


@dataclass(frozen=True)
class Shop:
    """The signed-in clerk and their shop for one request (a dependency of every handler here)."""

    clerk: Principal
    merchant_id: uuid.UUID
    records: CounterRecords
    ledger: LedgerService

    async def shell(self) -> dict[str, Any]:
        """What every signed-in page shows: the shop (and whether it is suspended), times in its zone."""
        return {
            "merchant": await self.records.merchant(self.merchant_id),
            "local": local_time(self.ledger.clock),
            "display_code": display,
        }


async def provide_shop(principal: Principal, records: CounterRecords, ledger: LedgerService) -> Shop:
    # CLERK_PAGE admits only clerks of a merchant.
    assert principal.merchant_id is not None
    return Shop(principal, principal.merchant_id, records, ledger)


# -- the counter ------------------------------------------------------------------------------------


class CounterController(Controller):
    path = "/"

    async def _page(
        self,
        request: AnyRequest,
        shop: Shop,
        status: int = 200,
        **context: Any,
    ) -> Template:
        start, end = day_bounds(shop.ledger.clock.today(), shop.ledger.clock)
        today = await shop.records.fulfilled_between(shop.merchant_id, start, end)
        return CLERK_PAGE.render(
            request,
            "counter",
            page_path=COUNTER_PATH,
            status=status,
            **await shop.shell(),
            today=today,
            today_points=sum(line.points for line in today),
            **context,
        )

    @get("/", name="merchant_page:counter")
    async def counter(
        self,
        request: AnyRequest,
        shop: Shop,
        fulfilled: str | None = None,
    ) -> Template:
        page = await self._page(request, shop)
        if fulfilled:
            done: list[SettledLine] = [line for line in page.context["today"] if str(line.id) == fulfilled]
            page.context["done"] = done[0] if done else True
        return page

    @post("/verify", name="merchant_page:verify")
    async def verify(
        self,
        request: AnyRequest,
        shop: Shop,
        redemptions: RedemptionService,
    ) -> Template:
        typed = str((await request.form()).get("code") or "").strip()[:40]
        if normalise(typed) is None:
            return await self._page(request, shop, status=400, message="code_invalid", typed=typed)
        try:
            view = await redemptions.verify(shop.merchant_id, typed)
        except NotFound:
            return await self._page(request, shop, status=404, message="code_not_found", typed=typed)
        except TooManyAttempts:
            return await self._page(request, shop, status=429, message="too_many_codes", typed=typed)
        preview = {
            "code": display(view.redemption.code),
            "reward_title": view.reward_title,
            "quantity": view.redemption.quantity,
            "points": view.redemption.points,
            "member": mask_name(view.member_name),
            "expires_at": view.redemption.expires_at,
            "status": view.status,
            # One key per preview: a double tap on "confirm" replays the first answer, never settles twice.
            "key": uuid.uuid4().hex,
        }
        return await self._page(request, shop, preview=preview, message=STATUS_MESSAGES.get(view.status), typed=typed)

    @post("/confirm", name="merchant_page:confirm")
    async def confirm(
        self,
        request: AnyRequest,
        shop: Shop,
        redemptions: RedemptionService,
        idempotent: IdempotentWrites,
    ) -> Response[Any]:
        merchant_id = shop.merchant_id
        form = await request.form()
        typed = str(form.get("code") or "").strip()[:40]
        key = str(form.get("key") or "").strip() or None

        async def settle() -> dict[str, Any]:
            redemption = await redemptions.fulfil(merchant_id, typed, shop.clerk.account_id)
            return {"id": redemption.id, "status": redemption.status, "points": redemption.points}

        try:
            outcome = await idempotent.run(key, request.url.path, CodeRequest(code=typed), settle, status=200)
            status, body = outcome.status_code, outcome.content
        except DomainError as refusal:
            status, body = refusal.status_code, domain_error_body(refusal)
        if status == 200:
            return CLERK_PAGE.redirect(request, f"{COUNTER_PATH}?fulfilled={body['id']}")
        error = REFUSAL_MESSAGES.get(body.get("code"), "try_again")
        if body.get("code") == "not_pending":
            view = await redemptions.verify(merchant_id, typed)
            error = STATUS_MESSAGES.get(view.status, "try_again")
        return await self._page(request, shop, status=status, message=error, typed=typed)


# -- rewards ----------------------------------------------------------------------------------------


async def saved(db_session: AsyncSession, form: RewardForm, write: Callable[[], Awaitable[object]]) -> bool:
    """Whether a reward form was valid and written; if not, its errors say why (in a savepoint, so a
    refused write leaves nothing behind)."""
    if not form.ok:
        return False
    try:
        async with db_session.begin_nested():
            await write()
    except InvalidInput as refusal:
        form.errors[refusal.extra["errors"][0]["field"]] = "valid_until_past"
        return False
    return True


class RewardsController(Controller):
    path = "/rewards"

    async def _list(
        self,
        request: AnyRequest,
        shop: Shop,
        rewards: RewardService,
        status: int = 200,
        **context: Any,
    ) -> Template:
        context.setdefault("form", blank_form())
        return CLERK_PAGE.render(
            request,
            "rewards",
            page_path=REWARDS_PATH,
            status=status,
            **await shop.shell(),
            rewards=await rewards.list_for_merchant(shop.merchant_id),
            **context,
        )

    async def _no_such_reward(self, request: AnyRequest, shop: Shop, rewards: RewardService) -> Template:
        return await self._list(request, shop, rewards, status=404, message="reward_not_found")

    async def _edit(
        self, request: AnyRequest, shop: Shop, reward: Reward, form: RewardForm, status: int = 200
    ) -> Template:
        return CLERK_PAGE.render(
            request,
            "reward_edit",
            page_path=f"{REWARDS_PATH}/{reward.id}",
            status=status,
            **await shop.shell(),
            reward=reward,
            form=form,
        )

    @get("/", name="merchant_page:rewards")
    async def list_rewards(
        self,
        request: AnyRequest,
        shop: Shop,
        rewards: RewardService,
    ) -> Template:
        return await self._list(request, shop, rewards)

    @post("/", name="merchant_page:create_reward")
    async def create_reward(
        self,
        request: AnyRequest,
        shop: Shop,
        rewards: RewardService,
        db_session: AsyncSession,
    ) -> Response[Any]:
        merchant_id = shop.merchant_id
        form = read_reward_form(dict(await request.form()), shop.ledger.clock.timezone)
        if await saved(db_session, form, lambda: rewards.create(merchant_id, form.fields)):
            return CLERK_PAGE.redirect(request, REWARDS_PATH, Message.done("saved"))
        return await self._list(request, shop, rewards, status=400, form=form, open_form=True)

    @get("/{reward_id:uuid}", name="merchant_page:reward")
    async def edit_form(
        self,
        request: AnyRequest,
        reward_id: uuid.UUID,
        shop: Shop,
        rewards: RewardService,
    ) -> Response[Any]:
        try:
            reward = await rewards.of_merchant(shop.merchant_id, reward_id)
        except NotFound:
            return await self._no_such_reward(request, shop, rewards)
        return await self._edit(request, shop, reward, form_of(reward, shop.ledger.clock.timezone))

    @post("/{reward_id:uuid}", name="merchant_page:update_reward")
    async def update_reward(
        self,
        request: AnyRequest,
        reward_id: uuid.UUID,
        shop: Shop,
        rewards: RewardService,
        db_session: AsyncSession,
    ) -> Response[Any]:
        try:
            reward = await rewards.of_merchant(shop.merchant_id, reward_id)
        except NotFound:
            return await self._no_such_reward(request, shop, rewards)
        merchant_id = shop.merchant_id
        form = read_reward_form(dict(await request.form()), shop.ledger.clock.timezone)
        if await saved(db_session, form, lambda: rewards.update(merchant_id, reward_id, changed_fields(form, reward))):
            return CLERK_PAGE.redirect(request, REWARDS_PATH, Message.done("saved"))
        return await self._edit(request, shop, reward, form, status=400)

    @post("/{reward_id:uuid}/status", name="merchant_page:reward_status")
    async def set_status(
        self,
        request: AnyRequest,
        reward_id: uuid.UUID,
        shop: Shop,
        rewards: RewardService,
    ) -> Response[Any]:
        status = "active" if (await request.form()).get("status") == "active" else "inactive"
        try:
            await rewards.update(shop.merchant_id, reward_id, {"status": status})
        except NotFound:
            return await self._no_such_reward(request, shop, rewards)
        return CLERK_PAGE.redirect(request, REWARDS_PATH, Message.done("saved"))


# -- the monthly statement --------------------------------------------------------------------------


def _month(month: str | None, clock: TenantClock) -> date:
    try:
        return parse_month(month, clock)
    except InvalidInput:
        return parse_month(None, clock)


class StatementPageController(Controller):
    """The JSON API's statement (SettlementService), totalled per reward for the page, or as CSV."""

    path = "/"

    @get("/statement", name="merchant_page:statement")
    async def statement(
        self,
        request: AnyRequest,
        shop: Shop,
        settlement: SettlementService,
        month: str | None = None,
    ) -> Template:
        period = _month(month, shop.ledger.clock)
        lines = await settlement.statement(shop.merchant_id, period)
        by_reward: dict[str, dict[str, Any]] = {}
        for line in lines:
            row = by_reward.setdefault(
                line.reward_title, {"title": line.reward_title, "count": 0, "quantity": 0, "points": 0}
            )
            row["count"] += 1
            row["quantity"] += line.quantity
            row["points"] += line.points
        return CLERK_PAGE.render(
            request,
            "statement",
            page_path=STATEMENT_PATH,
            **await shop.shell(),
            month=f"{period:%Y-%m}",
            by_reward=sorted(by_reward.values(), key=lambda row: (-row["points"], row["title"])),
            totals={
                "count": len(lines),
                "quantity": sum(line.quantity for line in lines),
                "points": sum(line.points for line in lines),
            },
        )

    @get("/statement.csv", name="merchant_page:statement_csv")
    async def statement_csv(
        self,
        request: AnyRequest,
        shop: Shop,
        settlement: SettlementService,
        month: str | None = None,
    ) -> Response[str]:
        period = _month(month, shop.ledger.clock)
        lines = await settlement.statement(shop.merchant_id, period)
        shown = local_time(shop.ledger.clock)
        rows: list[list[object]] = [
            [shown(line.settled_at), display(line.code), line.reward_title, line.quantity, line.points]
            for line in lines
        ]
        response: Response[str] = Response(
            csv_text(CLERK_PAGE.words(request)["csv_header"].split(","), rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statement-{period:%Y-%m}.csv"'},
        )
        CLERK_PAGE.finish(request, response)
        return response


PAGE_CONTROLLERS = [CounterController, RewardsController, StatementPageController]
