"""The merchant web page at /merchant/: a clerk signs in, looks a member's code up, checks what to hand
over, confirms; manages the shop's rewards; reads the monthly statement.

Server-rendered forms, no build step. Every write is the JSON API's own service call
(RedemptionService.fulfil behind the same idempotent runner, RewardService.create/update); the page
only parses forms, renders and redirects. CSRF is checked by Litestar's CSRFMiddleware (configured by
the app factory for every path outside /api); the session lives in HttpOnly cookies (session.py).
"""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import PermissionDeniedException
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.redemptions.codes import display, normalise
from merchants.redemptions.service import RedemptionService
from merchants.rewards.service import RewardService
from merchants.schemas import CodeRequest
from merchants.settlement.service import SettlementService, parse_month
from merchants.web.forms import blank_form, changed_fields, form_of, read_reward_form
from merchants.web.i18n import DEFAULT_LANGUAGE, MESSAGES, supported
from merchants.web.repository import CounterRecords, SettledLine
from merchants.web.session import (
    ACCESS_COOKIE,
    COOKIE_PATH,
    LANGUAGE_COOKIE,
    REFRESH_COOKIE,
    SignInRequired,
    auth_service,
    clear_session,
    clerk_of,
    keep_renewed_session,
    redirect_to_sign_in,
    set_session,
)
from points_service.auth.principal import Principal
from points_service.errors import (
    DomainError,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
    domain_error_body,
)
from points_service.exports import csv_text
from points_service.idempotency.service import IdempotentWrites
from points_service.ledger.service import LedgerService
from points_service.org.names import mask_name
from points_service.tenancy.periods import TenantClock

COUNTER_PATH = "/merchant/"
REWARDS_PATH = "/merchant/rewards"
STATEMENT_PATH = "/merchant/statement"
LANGUAGE_COOKIE_SECONDS = 365 * 86400
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


def language(request: AnyRequest) -> tuple[str, bool]:
    """The page's language and whether the clerk just chose it (`?lang=`): zh-CN unless asked otherwise."""
    asked = supported(request.query_params.get("lang"))
    if asked:
        return asked, True
    return supported(request.cookies.get(LANGUAGE_COOKIE)) or DEFAULT_LANGUAGE, False


def _finish(request: AnyRequest, response: Response[Any]) -> None:
    lang, chosen = language(request)
    if chosen:
        response.set_cookie(
            key=LANGUAGE_COOKIE,
            value=lang,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    keep_renewed_session(request, response)


def render(request: AnyRequest, name: str, page_path: str, status: int = 200, **context: Any) -> Template:
    lang, _ = language(request)
    response = Template(
        template_name=f"merchant/{name}.html",
        context={"t": MESSAGES[lang], "lang": lang, "page_path": page_path, "error": None, "error_args": {}, **context},
        status_code=status,
    )
    _finish(request, response)
    return response


def go(request: AnyRequest, url: str) -> Redirect:
    response = Redirect(url, status_code=303)
    _finish(request, response)
    return response


def local_time(clock: TenantClock) -> Any:
    zone = clock.zone

    def shown(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        return moment.astimezone(zone).strftime(pattern) if moment else ""

    return shown


def day_bounds(day: date, clock: TenantClock) -> tuple[datetime, datetime]:
    return datetime.combine(day, time(), clock.zone), datetime.combine(day + timedelta(days=1), time(), clock.zone)


async def shell(principal: Principal, records: CounterRecords, ledger: LedgerService) -> dict[str, Any]:
    """What every signed-in page shows: the shop (and whether it is suspended), times in its zone."""
    assert principal.merchant_id is not None
    return {
        "clerk": principal,
        "merchant": await records.merchant(principal.merchant_id),
        "local": local_time(ledger.clock),
        "display_code": display,
    }


def page_expired(request: AnyRequest, _: PermissionDeniedException) -> Template:
    """A form posted without its CSRF token (or with a stale one): 403, said in the clerk's language."""
    return render(request, "problem", COUNTER_PATH, status=403, error="page_expired")


PAGE_EXCEPTION_HANDLERS = {SignInRequired: redirect_to_sign_in, PermissionDeniedException: page_expired}


# -- sign-in ----------------------------------------------------------------------------------------


class SignInController(Controller):
    path = "/"

    @get("/login", name="merchant_page:sign_in")
    async def sign_in_form(self, request: AnyRequest, state: State, ended: str | None = None) -> Response[Any]:
        access = request.cookies.get(ACCESS_COOKIE)
        if access:
            try:
                clerk_of(state.access_tokens.decode(access))
                return go(request, COUNTER_PATH)
            except (Unauthenticated, SignInRequired):
                pass
        return render(request, "login", "/merchant/login", error="session_ended" if ended else None)

    @post("/login", name="merchant_page:sign_in_post")
    async def sign_in(self, request: AnyRequest, db_session: AsyncSession, state: State) -> Response[Any]:
        form = await request.form()
        username = str(form.get("username") or "").strip()[:64]
        password = str(form.get("password") or "")[:256]
        address = request.client.host if request.client else "unknown"
        auth = auth_service(db_session, state)
        status, error, error_args = 401, "invalid_credentials", {}
        if username and password:
            try:
                pair = await auth.login(username, password, address)
            except TooManyAttempts as refusal:
                status, error, error_args = 429, "too_many_attempts", {"minutes": math.ceil(refusal.retry_after / 60)}
            except InvalidCredentials:
                pass
            else:
                if pair.role == "clerk":
                    response = go(request, COUNTER_PATH)
                    set_session(request, response, pair)
                    return response
                # Right password, wrong door: the tokens just issued are of no use here.
                await auth.logout(pair.refresh_token)
                status, error = 403, "not_a_clerk"
        response = render(
            request, "login", "/merchant/login", status=status, error=error, error_args=error_args, username=username
        )
        clear_session(response)
        return response

    @post("/logout", name="merchant_page:sign_out")
    async def sign_out(self, request: AnyRequest, db_session: AsyncSession, state: State) -> Redirect:
        refresh = request.cookies.get(REFRESH_COOKIE)
        if refresh:
            await auth_service(db_session, state).logout(refresh)
        response = go(request, "/merchant/login")
        clear_session(response)
        return response


# -- the counter ------------------------------------------------------------------------------------


class CounterController(Controller):
    path = "/"

    async def _page(
        self,
        request: AnyRequest,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        status: int = 200,
        **context: Any,
    ) -> Template:
        assert principal.merchant_id is not None
        start, end = day_bounds(ledger.clock.today(), ledger.clock)
        today = await records.fulfilled_between(principal.merchant_id, start, end)
        return render(
            request,
            "counter",
            COUNTER_PATH,
            status=status,
            **await shell(principal, records, ledger),
            today=today,
            today_points=sum(line.points for line in today),
            **context,
        )

    @get("/", name="merchant_page:counter")
    async def counter(
        self,
        request: AnyRequest,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        fulfilled: str | None = None,
    ) -> Template:
        page = await self._page(request, principal, records, ledger)
        if fulfilled:
            done: list[SettledLine] = [line for line in page.context["today"] if str(line.id) == fulfilled]
            page.context["done"] = done[0] if done else True
        return page

    @post("/verify", name="merchant_page:verify")
    async def verify(
        self,
        request: AnyRequest,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        redemptions: RedemptionService,
    ) -> Template:
        assert principal.merchant_id is not None
        typed = str((await request.form()).get("code") or "").strip()[:40]
        if normalise(typed) is None:
            return await self._page(request, principal, records, ledger, status=400, error="code_invalid", typed=typed)
        try:
            view = await redemptions.verify(principal.merchant_id, typed)
        except NotFound:
            return await self._page(
                request, principal, records, ledger, status=404, error="code_not_found", typed=typed
            )
        except TooManyAttempts:
            return await self._page(
                request, principal, records, ledger, status=429, error="too_many_codes", typed=typed
            )
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
        return await self._page(
            request, principal, records, ledger, preview=preview, error=STATUS_MESSAGES.get(view.status), typed=typed
        )

    @post("/confirm", name="merchant_page:confirm")
    async def confirm(
        self,
        request: AnyRequest,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        redemptions: RedemptionService,
        idempotent: IdempotentWrites,
    ) -> Response[Any]:
        assert principal.merchant_id is not None
        merchant_id = principal.merchant_id
        form = await request.form()
        typed = str(form.get("code") or "").strip()[:40]
        key = str(form.get("key") or "").strip() or None

        async def settle() -> dict[str, Any]:
            redemption = await redemptions.fulfil(merchant_id, typed, principal.account_id)
            return {"id": redemption.id, "status": redemption.status, "points": redemption.points}

        try:
            outcome = await idempotent.run(key, request.url.path, CodeRequest(code=typed), settle, status=200)
            status, body = outcome.status_code, outcome.content
        except DomainError as refusal:
            status, body = refusal.status_code, domain_error_body(refusal)
        if status == 200:
            return go(request, f"{COUNTER_PATH}?fulfilled={body['id']}")
        error = REFUSAL_MESSAGES.get(body.get("code"), "try_again")
        if body.get("code") == "not_pending":
            view = await redemptions.verify(merchant_id, typed)
            error = STATUS_MESSAGES.get(view.status, "try_again")
        return await self._page(request, principal, records, ledger, status=status, error=error, typed=typed)


# -- rewards ----------------------------------------------------------------------------------------


class RewardsController(Controller):
    path = "/rewards"

    async def _list(
        self,
        request: AnyRequest,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        rewards: RewardService,
        status: int = 200,
        **context: Any,
    ) -> Template:
        assert principal.merchant_id is not None
        context.setdefault("form", blank_form())
        return render(
            request,
            "rewards",
            REWARDS_PATH,
            status=status,
            **await shell(principal, records, ledger),
            rewards=await rewards.list_for_merchant(principal.merchant_id),
            **context,
        )

    @get("/", name="merchant_page:rewards")
    async def list_rewards(
        self,
        request: AnyRequest,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        rewards: RewardService,
        saved: str | None = None,
    ) -> Template:
        return await self._list(request, principal, records, ledger, rewards, saved=bool(saved))

    @post("/", name="merchant_page:create_reward")
    async def create_reward(
        self,
        request: AnyRequest,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        rewards: RewardService,
        db_session: AsyncSession,
    ) -> Response[Any]:
        assert principal.merchant_id is not None
        form = read_reward_form(dict(await request.form()), ledger.clock.timezone)
        if form.ok:
            try:
                async with db_session.begin_nested():
                    await rewards.create(principal.merchant_id, form.fields)
                return go(request, f"{REWARDS_PATH}?saved=1")
            except InvalidInput as refusal:
                form.errors[refusal.extra["errors"][0]["field"]] = "valid_until_past"
        return await self._list(request, principal, records, ledger, rewards, status=400, form=form, open_form=True)

    @get("/{reward_id:uuid}", name="merchant_page:reward")
    async def edit_form(
        self,
        request: AnyRequest,
        reward_id: uuid.UUID,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        rewards: RewardService,
    ) -> Response[Any]:
        assert principal.merchant_id is not None
        try:
            reward = await rewards.of_merchant(principal.merchant_id, reward_id)
        except NotFound:
            return await self._list(request, principal, records, ledger, rewards, status=404, error="reward_not_found")
        return render(
            request,
            "reward_edit",
            f"{REWARDS_PATH}/{reward_id}",
            **await shell(principal, records, ledger),
            reward=reward,
            form=form_of(reward, ledger.clock.timezone),
        )

    @post("/{reward_id:uuid}", name="merchant_page:update_reward")
    async def update_reward(
        self,
        request: AnyRequest,
        reward_id: uuid.UUID,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        rewards: RewardService,
        db_session: AsyncSession,
    ) -> Response[Any]:
        assert principal.merchant_id is not None
        try:
            reward = await rewards.of_merchant(principal.merchant_id, reward_id)
        except NotFound:
            return await self._list(request, principal, records, ledger, rewards, status=404, error="reward_not_found")
        form = read_reward_form(dict(await request.form()), ledger.clock.timezone)
        if form.ok:
            try:
                async with db_session.begin_nested():
                    await rewards.update(principal.merchant_id, reward_id, changed_fields(form, reward))
                return go(request, f"{REWARDS_PATH}?saved=1")
            except InvalidInput as refusal:
                form.errors[refusal.extra["errors"][0]["field"]] = "valid_until_past"
        return render(
            request,
            "reward_edit",
            f"{REWARDS_PATH}/{reward_id}",
            status=400,
            **await shell(principal, records, ledger),
            reward=reward,
            form=form,
        )

    @post("/{reward_id:uuid}/status", name="merchant_page:reward_status")
    async def set_status(
        self,
        request: AnyRequest,
        reward_id: uuid.UUID,
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        rewards: RewardService,
    ) -> Response[Any]:
        assert principal.merchant_id is not None
        status = "active" if (await request.form()).get("status") == "active" else "inactive"
        try:
            await rewards.update(principal.merchant_id, reward_id, {"status": status})
        except NotFound:
            return await self._list(request, principal, records, ledger, rewards, status=404, error="reward_not_found")
        return go(request, f"{REWARDS_PATH}?saved=1")


# -- the monthly statement --------------------------------------------------------------------------


def _cell(value: object) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula; reward titles are typed by clerks.
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


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
        principal: Principal,
        records: CounterRecords,
        ledger: LedgerService,
        settlement: SettlementService,
        month: str | None = None,
    ) -> Template:
        assert principal.merchant_id is not None
        period = _month(month, ledger.clock)
        lines = await settlement.statement(principal.merchant_id, period)
        by_reward: dict[str, dict[str, Any]] = {}
        for line in lines:
            row = by_reward.setdefault(
                line.reward_title, {"title": line.reward_title, "count": 0, "quantity": 0, "points": 0}
            )
            row["count"] += 1
            row["quantity"] += line.quantity
            row["points"] += line.points
        return render(
            request,
            "statement",
            STATEMENT_PATH,
            **await shell(principal, records, ledger),
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
        principal: Principal,
        ledger: LedgerService,
        settlement: SettlementService,
        month: str | None = None,
    ) -> Response[str]:
        assert principal.merchant_id is not None
        period = _month(month, ledger.clock)
        lines = await settlement.statement(principal.merchant_id, period)
        shown = local_time(ledger.clock)
        lang, _ = language(request)
        rows: list[list[object]] = [
            [shown(line.settled_at), display(line.code), _cell(line.reward_title), line.quantity, line.points]
            for line in lines
        ]
        response: Response[str] = Response(
            csv_text(MESSAGES[lang]["csv_header"].split(","), rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statement-{period:%Y-%m}.csv"'},
        )
        _finish(request, response)
        return response


PAGE_CONTROLLERS = [SignInController, CounterController, RewardsController, StatementPageController]
