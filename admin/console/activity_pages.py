"""The console's activity (志愿服务活动) screens: the list, create and edit (time window, place and radius,
places, rule), the roster (signed up, checked in, came or absent), the check-in screen for a tablet or
projector at the door (the rotating QR code and its typed code, full-screen, refreshing itself when the
code turns), confirming everyone who checked in in one action (the rest are marked absent), and
cancelling with a reason that the members who signed up see on their phones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from admin.console.page import STAFF_PAGE
from admin.console.points_pages import idempotent, key_of, new_key
from admin.console.work import Work, unit_choices
from points_service.activities.models import Activity, ActivitySignup
from points_service.activities.schemas import confirmation_answer
from points_service.activities.service import CHECK_IN_OPENS_BEFORE, MAX_CAPACITY, ActivityService
from points_service.activities.tokens import WINDOW_SECONDS, check_in_token, qr_text, short_check_in_code, window_of
from points_service.earning import earning_context
from points_service.errors import DomainError, InvalidInput
from points_service.mobile.page import stored_refusal
from points_service.pagination import decode_cursor, encode_cursor
from points_service.qr import qr_svg
from points_service.rules.models import Rule
from points_service.tenancy.periods import TenantClock
from points_service.web import Message, local_time

AnyRequest = Request[Any, Any, Any]
ACTIVITIES_PATH = "/admin/activities"
LISTED = 100


def activities_of(work: Work) -> ActivityService:
    return ActivityService(earning_context(work.db_session, work.staff, work.clock), work.state.settings.jwt_secret)


def activity_state(activity: Activity, now: datetime) -> str:
    """Where an activity stands, as its status words name it."""
    if activity.cancelled_at is not None:
        return "cancelled"
    if activity.confirmed_at is not None:
        return "confirmed"
    if now < activity.starts_at:
        return "upcoming"
    return "running" if now <= activity.ends_at else "awaiting"


def signup_state(activity: Activity, signup: ActivitySignup) -> str:
    if activity.confirmed_at is not None:
        return "attended" if signup.attended else "absent"
    return "checked_in" if signup.checked_in_at is not None else "signed_up"


def local_input(moment: datetime | None, clock: TenantClock) -> str:
    """A moment as a datetime-local field shows it, in the tenant's zone."""
    return moment.astimezone(clock.zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def moment_of(form: Any, name: str, clock: TenantClock) -> datetime:
    try:
        return datetime.fromisoformat(str(form.get(name) or "")).replace(tzinfo=clock.zone).astimezone(UTC)
    except ValueError as error:
        raise InvalidInput(name, "a date and time") from error


def number_of(form: Any, name: str, low: float, high: float) -> float | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as error:
        raise InvalidInput(name, "must be a number") from error
    if not low <= number <= high:
        raise InvalidInput(name, f"must be between {low:g} and {high:g}")
    return number


def activity_fields(form: Any, clock: TenantClock) -> dict[str, Any]:
    """The fields of the create and edit forms, as the service takes them."""
    title = str(form.get("title") or "").strip()[:200]
    if not title:
        raise InvalidInput("title", "must not be empty")
    capacity = number_of(form, "capacity", 1, MAX_CAPACITY)
    radius = number_of(form, "radius_m", 10, 100_000)
    return {
        "title": title,
        "description": str(form.get("description") or "").strip()[:5000],
        "starts_at": moment_of(form, "starts_at", clock),
        "ends_at": moment_of(form, "ends_at", clock),
        "place": str(form.get("place") or "").strip()[:300],
        "latitude": number_of(form, "latitude", -90, 90),
        "longitude": number_of(form, "longitude", -180, 180),
        "radius_m": int(radius) if radius is not None else None,
        "capacity": int(capacity) if capacity is not None else 20,
        "rule_code": str(form.get("rule_code") or ""),
    }


def earning_rules(rules: list[Rule]) -> list[Rule]:
    return sorted((rule for rule in rules if rule.is_active and rule.points > 0), key=lambda rule: rule.name)


class ConsoleActivities(Controller):
    path = "/activities"

    @get("/", name="console:activities")
    async def listed(self, request: AnyRequest, work: Work, past: bool = False, cursor: str | None = None) -> Template:
        now = datetime.now(UTC)
        rows = await activities_of(work).listed(past, LISTED, decode_cursor(cursor))
        shown = rows[:LISTED]
        units = await work.records.units([activity.org_unit_id for activity in shown])
        last = shown[-1] if len(rows) > LISTED else None
        return STAFF_PAGE.render(
            request,
            "activities",
            rows=[(activity, units[activity.org_unit_id].name, activity_state(activity, now)) for activity in shown],
            past=past,
            next_cursor=encode_cursor(last.starts_at, last.id) if last else None,
            local=local_time(work.clock),
        )

    @get("/new", name="console:new_activity")
    async def new(self, request: AnyRequest, work: Work) -> Template:
        _, units = await unit_choices(work, None)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        return STAFF_PAGE.render(
            request,
            "activity_form",
            activity=None,
            units=units,
            rules=earning_rules(await work.rules.all()),
            penalties=[rule for rule in await work.rules.all() if rule.is_active and rule.category == "penalty"],
            starts=local_input(now, work.clock),
            ends=local_input(now + timedelta(hours=2), work.clock),
        )

    @post("/", name="console:create_activity")
    async def create(self, request: AnyRequest, work: Work) -> Redirect:
        form = await request.form()
        try:
            fields = activity_fields(form, work.clock)
            fields["org_unit_id"] = uuid.UUID(str(form.get("org_unit_id") or ""))
            fields["no_show_rule_code"] = str(form.get("no_show_rule_code") or "") or None
            async with work.db_session.begin_nested():
                activity = await activities_of(work).create(fields)
        except ValueError:
            return STAFF_PAGE.redirect(request, f"{ACTIVITIES_PATH}/new", Message.error("invalid_input"))
        except DomainError as error:
            return STAFF_PAGE.redirect(request, f"{ACTIVITIES_PATH}/new", STAFF_PAGE.refusal(request, error))
        return STAFF_PAGE.redirect(request, f"{ACTIVITIES_PATH}/{activity.id}", Message.done("activity_created"))

    @get("/{activity_id:uuid}", name="console:activity")
    async def one(self, request: AnyRequest, activity_id: uuid.UUID, work: Work) -> Template:
        activities = activities_of(work)
        activity = await activities.in_reach(activity_id)
        signups = await activities.signups(activity_id)
        rules = await work.rules.all()
        units = await work.records.units([activity.org_unit_id])
        state = activity_state(activity, datetime.now(UTC))
        roster = [(signup, name, signup_state(activity, signup)) for signup, name in signups]
        return STAFF_PAGE.render(
            request,
            "activity",
            activity=activity,
            state=state,
            unit=units[activity.org_unit_id],
            rule=next((rule for rule in rules if rule.id == activity.rule_id), None),
            rules=earning_rules(rules),
            roster=roster,
            checked_in=sum(1 for _, _, status in roster if status in ("checked_in", "attended")),
            starts=local_input(activity.starts_at, work.clock),
            ends=local_input(activity.ends_at, work.clock),
            key=new_key(),
            local=local_time(work.clock),
        )

    @post("/{activity_id:uuid}/edit", name="console:edit_activity")
    async def edit(self, request: AnyRequest, activity_id: uuid.UUID, work: Work) -> Redirect:
        form = await request.form()

        async def edit() -> Message:
            await activities_of(work).update(activity_id, activity_fields(form, work.clock))
            return Message.done("activity_saved")

        return await STAFF_PAGE.act(request, work.db_session, f"{ACTIVITIES_PATH}/{activity_id}", edit)

    @get("/{activity_id:uuid}/check-in", name="console:check_in_screen")
    async def check_in_screen(self, request: AnyRequest, activity_id: uuid.UUID, work: Work) -> Template:
        activities = activities_of(work)
        activity = await activities.in_reach(activity_id)
        now = datetime.now(UTC)
        token = check_in_token(work.state.settings.jwt_secret, activity.id, now)
        signups = await activities.signups(activity_id)
        # The page reloads itself (a meta refresh: no script) just after the code turns.
        turns_in = (window_of(now) + 1) * WINDOW_SECONDS - int(now.timestamp()) + 1
        return STAFF_PAGE.render(
            request,
            "check_in_screen",
            activity=activity,
            state=activity_state(activity, now),
            # The six digits a member can type in time; the 24-letter token is for cameras only.
            short_code=short_check_in_code(work.state.settings.jwt_secret, activity.id, now),
            qr=qr_svg(qr_text(activity.id, token), scalable=True),
            refresh=max(2, min(turns_in, WINDOW_SECONDS + 1)),
            opens_at=activity.starts_at - CHECK_IN_OPENS_BEFORE
            if now < activity.starts_at - CHECK_IN_OPENS_BEFORE
            else None,
            checked_in=sum(1 for signup, _ in signups if signup.checked_in_at is not None),
            signed_up=len(signups),
            local=local_time(work.clock),
        )

    @post("/{activity_id:uuid}/confirm", name="console:confirm_activity")
    async def confirm(self, request: AnyRequest, activity_id: uuid.UUID, work: Work) -> Response[Any]:
        form = await request.form()
        back = f"{ACTIVITIES_PATH}/{activity_id}"
        activities = activities_of(work)
        ledger = await work.ledger()

        async def confirm() -> Any:
            return confirmation_answer(await activities.confirm(activity_id, None, ledger))

        try:
            outcome = await idempotent(work).run(key_of(form), request.url.path, {}, confirm, status=200)
        except DomainError as error:
            return STAFF_PAGE.redirect(request, back, STAFF_PAGE.refusal(request, error))
        if outcome.status_code >= 400:
            return STAFF_PAGE.redirect(request, back, stored_refusal(STAFF_PAGE, request, outcome))
        answer = outcome.content
        done = Message.done(
            "attendance_confirmed",
            attended=len(answer["attended"]),
            points=int(answer["points_total"]),
            absent=len(answer["no_shows"]),
        )
        return STAFF_PAGE.redirect(request, back, done)

    @post("/{activity_id:uuid}/cancel", name="console:cancel_activity")
    async def cancel(self, request: AnyRequest, activity_id: uuid.UUID, work: Work) -> Redirect:
        form = await request.form()

        async def cancel() -> Message:
            _, told = await activities_of(work).call_off(activity_id, str(form.get("reason") or ""))
            return Message.done("activity_cancelled_done", told=told)

        return await STAFF_PAGE.act(request, work.db_session, f"{ACTIVITIES_PATH}/{activity_id}", cancel)


ACTIVITY_CONTROLLERS = [ConsoleActivities]
