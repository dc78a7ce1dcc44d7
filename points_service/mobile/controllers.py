"""The member page's own screens: home (balance, rank, history; the sign-in form when nobody is signed in)
and activities with duty shifts, with their actions. The rewards tab is served by the merchants package
(merchants/web/member_rewards.py).

Every screen calls the same services as the member API with the signed-in member's Principal, so what
a member may see and do is exactly what the API allows. Every action is a CSRF-checked form that runs the
service in a savepoint and redirects back with a message (`Page.act` of the web layer).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.schemas import ForMember
from points_service.activities.service import ActivityService
from points_service.auth.principal import Principal
from points_service.deps import ledger_for, tenant_clock_of
from points_service.duty.service import DutyService
from points_service.errors import DomainError
from points_service.idempotency.service import IdempotentWrites
from points_service.leaderboards.periods import parse_board
from points_service.leaderboards.service import LeaderboardService, MemberNames, Standing, member_view
from points_service.ledger.explain import explain
from points_service.ledger.service import LedgerService, member_balance
from points_service.mobile.acting import acted_member, acting_for
from points_service.mobile.activity_screen import activity_path
from points_service.mobile.community import check_in_to_shift, shift_line
from points_service.mobile.inbox_screen import unread_messages
from points_service.mobile.page import MEMBER_PAGE, stored_refusal
from points_service.mobile.repository import member_card
from points_service.tenancy.periods import TenantClock
from points_service.web import Message, SignInRequired, local_time

AnyRequest = Request[Any, Any, Any]
HOME_PATH = "/member/"
ACTIVITIES_PATH = "/member/activities"
# History lines per "load more", and the most one page shows.
HISTORY_STEP = 20
HISTORY_MOST = 200
ACTIVITIES_SHOWN = 50
# The shifts a member sees: the past week (to check out of a late one) and the next two months.
SHIFTS_BACK = timedelta(days=7)
SHIFTS_AHEAD = timedelta(days=60)


@dataclass(frozen=True)
class MonthRank:
    """The member's place on this month's board of their home unit. `shown` is False when the tenant
    hides ranks from members (member_ranking "hidden"): then the page says nothing at all."""

    shown: bool
    standing: Standing | None = None


async def month_rank(session: AsyncSession, state: State, member: Principal, clock: TenantClock) -> MonthRank:
    # The same reads and the same rule as the member's GET /leaderboards (leaderboards/controllers.py).
    assert member.member_id is not None
    view = await member_view(state.read_pool, member.tenant_id, member.member_id, None)
    if view.member_ranking == "hidden" or view.unit_id is None or view.unit_path is None:
        return MonthRank(shown=False)
    names: MemberNames = state.setdefault("leaderboard_names", MemberNames())
    board = parse_board("month", None, clock.today())
    _, mine, _ = await LeaderboardService(session, state.redis, member.tenant_id, names).top(
        board, view.unit_id, view.unit_path, 1, member.member_id
    )
    return MonthRank(shown=True, standing=mine)


def sign_in_here(request: AnyRequest) -> Template:
    """The sign-in form, answered at the page's own address (a bookmark of /member/ always works)."""
    ended = MEMBER_PAGE.refresh_cookie in request.cookies
    response = MEMBER_PAGE.render(request, "login", message="session_ended" if ended else None)
    if ended:
        MEMBER_PAGE.session.clear(response)
    return response


class HomeController(Controller):
    path = "/"

    @get("/", name="member_page:home")
    async def home(
        self, request: AnyRequest, state: State, db_session: AsyncSession, lines: int = HISTORY_STEP
    ) -> Template:
        try:
            member = await MEMBER_PAGE.user(request, state)
        except SignInRequired:
            return sign_in_here(request)
        assert member.member_id is not None
        lines = min(max(lines, HISTORY_STEP), HISTORY_MOST)
        clock = await tenant_clock_of(state, member.tenant_id)
        ledger = await ledger_for(state, db_session, member.tenant_id, member.account_id)
        history = await ledger.history(member.member_id, lines + 1, None)
        return MEMBER_PAGE.render(
            request,
            "home",
            user=member,
            # The home tab signs in by itself, not through the principal provider that finds this.
            acting=await acting_for(request, db_session, member),
            card=await member_card(db_session, member.tenant_id, member.member_id),
            balance=await member_balance(state.read_pool, clock, member.tenant_id, member.member_id),
            rank=await month_rank(db_session, state, member, clock),
            history=history[:lines],
            more_lines=lines + HISTORY_STEP if len(history) > lines and lines < HISTORY_MOST else None,
            explain=explain,
            local=local_time(clock),
            tab="home",
            unread=await unread_messages(db_session, member),
        )


class ActivitiesController(Controller):
    """Activities the member may join, with sign-up and check-in; the member's duty shifts. A proxy
    acting for an elder (代办) sees and does all of it for the elder."""

    path = "/"

    @get("/activities", name="member_page:activities")
    async def activities_tab(
        self, request: AnyRequest, activities: ActivityService, duties: DutyService, clock: TenantClock
    ) -> Template:
        now = datetime.now(UTC)
        whose = acted_member(request)
        upcoming = await activities.listed(False, ACTIVITIES_SHOWN, None, whose)
        mine = await activities.my_signups(ACTIVITIES_SHOWN, None, whose)
        shifts = await duties.my_shifts(now - SHIFTS_BACK, now + SHIFTS_AHEAD, whose)
        return MEMBER_PAGE.render(
            request,
            "activities",
            upcoming=upcoming,
            joined={signup.activity_id: signup for signup, _ in mine if signup.status != "cancelled"},
            shifts=[shift_line(shift, post, clock, now) for shift, post in shifts],
            # One key per check-out button: a double tap pays once and says so twice.
            new_key=lambda: uuid.uuid4().hex,
            local=local_time(clock),
            tab="activities",
        )

    @post("/activities/{activity_id:uuid}/sign-up", name="member_page:sign_up")
    async def sign_up(
        self, request: AnyRequest, activity_id: uuid.UUID, activities: ActivityService, db_session: AsyncSession
    ) -> Redirect:
        back = ACTIVITIES_PATH if (await request.form()).get("from") != "details" else activity_path(activity_id)

        async def sign_up() -> Message:
            await activities.sign_up(activity_id, acted_member(request))
            return Message.done("signed_up")

        return await MEMBER_PAGE.act(request, db_session, back, sign_up)

    @post("/activities/{activity_id:uuid}/check-in", name="member_page:activity_check_in")
    async def activity_check_in(
        self, request: AnyRequest, activity_id: uuid.UUID, activities: ActivityService, db_session: AsyncSession
    ) -> Redirect:
        form = await request.form()
        token = str(form.get("token") or "").strip()[:200]
        # Filled in by the browser (static/check_in.js) when the activity checks the place.
        latitude, longitude = _coordinate(form.get("latitude")), _coordinate(form.get("longitude"))

        async def check_in() -> Message:
            await activities.check_in(activity_id, token, latitude, longitude, acted_member(request))
            # Checking in earns nothing yet: staff confirm attendance, which pays.
            return Message.done("activity_checked_in")

        return await MEMBER_PAGE.act(request, db_session, activity_path(activity_id), check_in)

    @post("/shifts/{shift_id:uuid}/check-in", name="member_page:shift_check_in")
    async def shift_check_in(
        self,
        request: AnyRequest,
        shift_id: uuid.UUID,
        duties: DutyService,
        db_session: AsyncSession,
        principal: Principal,
        clock: TenantClock,
    ) -> Redirect:
        async def check_in() -> Message:
            return await check_in_to_shift(duties, db_session, principal, clock, shift_id, acted_member(request))

        return await MEMBER_PAGE.act(request, db_session, ACTIVITIES_PATH, check_in)

    @post("/shifts/{shift_id:uuid}/check-out", name="member_page:shift_check_out")
    async def shift_check_out(
        self,
        request: AnyRequest,
        shift_id: uuid.UUID,
        duties: DutyService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
    ) -> Redirect:
        key = str((await request.form()).get("key") or "").strip() or None

        async def check_out() -> dict[str, Any]:
            done = await duties.check_out(shift_id, acted_member(request), datetime.now(UTC), ledger)
            return {"id": done.shift.id, "points": done.points}

        # The same key-guarded write as the API's check-out: a repeated form replays the first answer.
        try:
            outcome = await idempotent.run(key, request.url.path, ForMember(), check_out, status=200)
        except DomainError as error:
            return MEMBER_PAGE.redirect(request, ACTIVITIES_PATH, MEMBER_PAGE.refusal(request, error))
        if outcome.status_code >= 400:
            return MEMBER_PAGE.redirect(request, ACTIVITIES_PATH, stored_refusal(MEMBER_PAGE, request, outcome))
        done = Message.done("checked_out", points=int(outcome.content["points"]))
        return MEMBER_PAGE.redirect(request, ACTIVITIES_PATH, done)


def _coordinate(value: object) -> float | None:
    try:
        number = float(str(value)) if value else None
    except ValueError:
        return None
    # "nan" compares false with every distance, so it would pass a "too far" check.
    return number if number is not None and math.isfinite(number) else None


MEMBER_CONTROLLERS = [HomeController, ActivitiesController]
