"""The console's pages for the community's work: posts with their holders, shifts and attendance (岗位),
micro-wishes (微心愿) and problem reports (民情上报) with their counts. Each list filters by status and
by a unit of the caller's subtree; the staff actions the API has (approve or reject a post claim, verify
or send back a wish, accept, escalate, reject or resolve a report) are forms that post through the same
services, each in a savepoint (staff_action, STAFF_PAGE.act), so a refused one writes nothing and the page
it returns to says why, or says what was done. Each is CSRF-checked like every console form."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from admin.console.desk_records import DeskRecords
from admin.console.page import STAFF_PAGE, staff_action
from admin.console.repository import ConsoleRecords
from points_service.auth.principal import Principal
from points_service.deps import provide_clock, provide_ledger
from points_service.duty.service import DutyService
from points_service.duty.shifts import duty_attendance, shift_status
from points_service.earning import earning_context
from points_service.errors import InvalidInput, NotFound
from points_service.ledger.service import LedgerService
from points_service.org.models import OrgUnit
from points_service.org.names import mask_name
from points_service.org.service import OrgService
from points_service.pagination import decode_cursor, encode_cursor
from points_service.reports.models import REPORT_CATEGORIES, REPORT_STATUSES
from points_service.reports.photos import PhotoStore
from points_service.reports.service import ReportService
from points_service.rules.models import Rule
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock, year_start
from points_service.web import local_time
from points_service.wishes.models import WISH_STATUSES
from points_service.wishes.service import WishService

AnyRequest = Request[Any, Any, Any]
PAGE = 100
POST_STATUSES = ("active", "closed")
SHIFTS_BACK = timedelta(days=14)
SHIFTS_AHEAD = timedelta(days=14)
ATTENDANCE_DAYS = timedelta(days=30)
# The seven posts a community runs (定岗定责定时), offered as names when staff create one.
SEED_POSTS = ("文明监督", "民事调解", "环境卫生", "安全信息", "便民服务", "敲门问帮", "移风易俗")


@dataclass(frozen=True)
class Work:
    """The staff member's services for one request (a dependency of every handler here)."""

    staff: Principal
    db_session: AsyncSession
    state: State
    org: OrgService
    records: ConsoleRecords
    clock: TenantClock
    duty: DutyService
    wishes: WishService
    reports: ReportService
    rules: RuleService

    async def ledger(self) -> LedgerService:
        return await provide_ledger(self.db_session, self.staff, self.state)


async def work_for(staff: Principal, db_session: AsyncSession, state: State) -> Work:
    earning = earning_context(db_session, staff, await provide_clock(staff, state))
    return Work(
        staff,
        db_session,
        state,
        earning.org,
        ConsoleRecords(db_session, staff),
        earning.clock,
        DutyService(earning),
        WishService(earning),
        ReportService(earning),
        earning.rules,
    )


async def unit_choices(work: Work, unit: uuid.UUID | None) -> tuple[OrgUnit | None, list[OrgUnit]]:
    """The unit filtered on (404 outside the caller's subtree) and what the filter offers: the caller's
    own units, the chosen one and the units right below it."""
    homes = await work.records.home_units()
    chosen = await work.org.unit_in_reach(unit) if unit else None
    below = chosen or (homes[0] if len(homes) == 1 else None)
    children = (await work.org.unit_with_children(below.id))[1] if below else []
    options: dict[uuid.UUID, OrgUnit] = {}
    for option in [*homes, *([chosen] if chosen else []), *children]:
        options.setdefault(option.id, option)
    return chosen, list(options.values())


@dataclass(frozen=True)
class WorkList:
    """What a list of the community's work is asked for: a unit of the caller's subtree (`?unit=`, empty
    for all of it), a status (`?status=`) and the cursor (`?cursor=`)."""

    unit_id: uuid.UUID | None
    chosen: OrgUnit | None
    options: list[OrgUnit]
    status: str | None
    cursor: tuple[datetime, uuid.UUID] | None

    def status_among(self, statuses: tuple[str, ...]) -> str | None:
        """The status filtered on, if it is one of this list's; any other shows every status."""
        return self.status if self.status in statuses else None

    def shown(self, statuses: tuple[str, ...], rows: list[Any], created: Any) -> dict[str, Any]:
        """What every list's template gets: the filters as chosen and offered, and the next page's cursor."""
        return {
            "chosen": self.chosen,
            "units": self.options,
            "status_filter": self.status_among(statuses),
            "statuses": statuses,
            "next_cursor": next_cursor(rows, created),
        }


async def work_list(
    work: Work, unit: str | None = None, status: str | None = None, cursor: str | None = None
) -> WorkList:
    """The list's filters and cursor (a dependency of every list here)."""
    unit_id = unit_asked(unit)
    chosen, options = await unit_choices(work, unit_id)
    return WorkList(unit_id, chosen, options, status, decode_cursor(cursor))


def unit_asked(value: str | None) -> uuid.UUID | None:
    """The filter's unit: empty means the caller's whole subtree; anything but an id is nobody's unit."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise NotFound(f"No such org unit: {value[:40]}") from error


def paying_rules(rules: list[Rule], category: str) -> list[Rule]:
    """Rules staff may pay a wish or a report with: that category's first, then any other earning rule."""
    earning = [rule for rule in rules if rule.is_active and rule.points > 0]
    return sorted(earning, key=lambda rule: (rule.category != category, rule.code))


def next_cursor(rows: list[Any], created: Any) -> str | None:
    if len(rows) <= PAGE:
        return None
    last = created(rows[PAGE - 1])
    return encode_cursor(last.created_at, last.id)


def here(request: AnyRequest) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def text_field(form: Any, name: str, limit: int = 2000) -> str:
    value = str(form.get(name) or "").strip()[:limit]
    if not value:
        raise InvalidInput(name, "must not be empty")
    return value


def chosen_rule(form: Any) -> str | None:
    """The rule staff chose to pay with; none chosen pays by the item's own rule, or nothing."""
    return str(form.get("rule_code") or "") or None


WorkAction = Callable[[Work, uuid.UUID, Any], Awaitable[object]]


def work_button(path: str, name: str, back: str, done: str, act: WorkAction) -> HTTPRouteHandler:
    """One staff button on an item of the community's work: `act(work, item id, form)` as a staff action
    (staff_action: in a savepoint, back to the list it was pressed on, saying `done` or why it was refused)."""

    @post(path, name=name)
    async def press(request: AnyRequest, item_id: uuid.UUID, work: Work) -> Response[Any]:
        async def run(form: Any) -> None:
            await act(work, item_id, form)

        return await staff_action(request, work.db_session, run, back, done)

    return press


# -- posts ------------------------------------------------------------------------------------------


class ConsolePosts(Controller):
    path = "/posts"

    @get("/", name="console:posts")
    async def listed(self, request: AnyRequest, work: Work, listing: WorkList) -> Template:
        active = {"active": True, "closed": False}.get(listing.status_among(POST_STATUSES) or "")
        rows = await work.duty.posts(PAGE, listing.cursor, listing.unit_id, active)
        rules = await work.rules.all()
        return STAFF_PAGE.render(
            request,
            "posts",
            rows=rows[:PAGE],
            rule_names={rule.code: rule.name for rule in rules},
            rules=paying_rules(rules, "duty"),
            all_units=await DeskRecords(work.db_session, work.staff).units_under(await work.org.reach()),
            seed_posts=SEED_POSTS,
            **listing.shown(POST_STATUSES, rows, lambda row: row[0]),
        )

    @get("/{post_id:uuid}", name="console:post")
    async def one(self, request: AnyRequest, post_id: uuid.UUID, work: Work, q: str | None = None) -> Template:
        now = datetime.now(UTC)
        found = await work.duty.post_in_reach(post_id)
        claims = await work.duty.holders(post_id)
        shifts = await work.duty.post_shifts(post_id, now - SHIFTS_BACK, now + SHIFTS_AHEAD)
        holders = {claim.member_id: name for claim, name in claims if claim.status == "approved"}
        counted = await duty_attendance(
            work.db_session, work.staff.tenant_id, list(holders), now - ATTENDANCE_DAYS, now, now
        )
        attendance = [
            {"name": name, "due": due, "attended": attended, "hours": hours, "rate": attended / due if due else None}
            for member_id, name in holders.items()
            for due, attended, hours in [counted.get(member_id, (0, 0, 0))]
        ]
        units = await work.records.units([found.org_unit_id])
        rule_code = await work.duty.rule_code(found)
        rule_names = {rule.code: rule.name for rule in await work.rules.all()}
        named = (q or "").strip()[:50] or None
        members = await DeskRecords(work.db_session, work.staff).members_under(units[found.org_unit_id].path, named)
        return STAFF_PAGE.render(
            request,
            "post",
            post=found,
            unit=units[found.org_unit_id],
            rule_name=rule_names.get(rule_code, rule_code),
            holders=holders,
            members=[member for member in members if member[0] not in holders],
            named=named or "",
            today=work.clock.today(),
            claims=claims,
            shifts=[(shift, name, shift_status(shift, now)) for shift, name in shifts],
            attendance=attendance,
            local=local_time(work.clock),
        )


POST_CLAIM_BUTTONS = [
    work_button(
        "/post-claims/{item_id:uuid}/approve",
        "console:approve_post_claim",
        "/admin/posts",
        "approve_done",
        lambda work, claim_id, _form: work.duty.decide_post_claim(claim_id, True, None),
    ),
    work_button(
        "/post-claims/{item_id:uuid}/reject",
        "console:reject_post_claim",
        "/admin/posts",
        "reject_done",
        lambda work, claim_id, form: work.duty.decide_post_claim(claim_id, False, text_field(form, "reason")),
    ),
]


# -- micro-wishes -----------------------------------------------------------------------------------


class ConsoleWishes(Controller):
    path = "/wishes"

    @get("/", name="console:wishes")
    async def listed(self, request: AnyRequest, work: Work, listing: WorkList) -> Template:
        rows = await work.wishes.listed(listing.status_among(WISH_STATUSES), PAGE, listing.cursor, listing.unit_id)
        claimants = await work.records.member_names([wish.claimed_by for wish, _ in rows[:PAGE]])
        return STAFF_PAGE.render(
            request,
            "wishes",
            rows=[
                {
                    "wish": wish,
                    "unit_name": unit_name,
                    # Staff screens are seen by others at the desk: the resident's name stays masked here.
                    "resident": mask_name(wish.resident_name),
                    "claimant": claimants.get(wish.claimed_by) if wish.claimed_by else None,
                }
                for wish, unit_name in rows[:PAGE]
            ],
            rules=paying_rules(await work.rules.all(), "wish"),
            all_units=await DeskRecords(work.db_session, work.staff).units_under(await work.org.reach()),
            back=here(request),
            **listing.shown(WISH_STATUSES, rows, lambda row: row[0]),
        )


async def verify_wish(work: Work, wish_id: uuid.UUID, form: Any) -> None:
    await work.wishes.verify(wish_id, chosen_rule(form), await work.ledger())


WISH_BUTTONS = [
    work_button("/wishes/{item_id:uuid}/verify", "console:verify_wish", "/admin/wishes", "verify_done", verify_wish),
    work_button(
        "/wishes/{item_id:uuid}/send-back",
        "console:send_back_wish",
        "/admin/wishes",
        "send_back_done",
        lambda work, wish_id, form: work.wishes.send_back(wish_id, text_field(form, "reason")),
    ),
]


# -- problem reports --------------------------------------------------------------------------------


def period(first: str | None, last: str | None, clock: TenantClock) -> tuple[date, date]:
    today = clock.today()
    try:
        start = date.fromisoformat(first) if first else year_start(today)
        end = date.fromisoformat(last) if last else today
    except ValueError as error:
        raise InvalidInput("from", "dates as YYYY-MM-DD") from error
    return start, end


class ConsoleReports(Controller):
    path = "/reports"

    @get("/", name="console:reports")
    async def listed(
        self, request: AnyRequest, work: Work, listing: WorkList, first: str | None = None, last: str | None = None
    ) -> Template:
        start, end = period(first, last, work.clock)
        counted_unit = listing.chosen or next(iter(await work.records.home_units()), None)
        stats = await work.reports.stats(counted_unit.id, start, end) if counted_unit else None
        status = listing.status_among(REPORT_STATUSES)
        rows = await work.reports.listed(status, PAGE, listing.cursor, listing.unit_id)
        shown = rows[:PAGE]
        names = await work.records.member_names([report.member_id for report in shown])
        unit_rows = await work.records.units(
            [about for report in shown for about in (report.reported_unit_id, report.handling_unit_id)]
        )
        reach = await work.org.reach()
        photos = PhotoStore(work.state.settings.report_photos)
        return STAFF_PAGE.render(
            request,
            "reports",
            rows=[
                {
                    "report": report,
                    "reporter": names.get(report.member_id, ""),
                    "reported_unit": unit_rows[report.reported_unit_id].name,
                    "handling_unit": unit_rows[report.handling_unit_id].name,
                    # Staff below an escalated report still read it, but it is decided above them.
                    "decidable": reach.covers(unit_rows[report.handling_unit_id].path),
                    "photos": await photos.names(work.staff.tenant_id, report.id),
                }
                for report in shown
            ],
            counted_unit=counted_unit,
            stats=stats,
            first=start.isoformat(),
            last=end.isoformat(),
            categories=REPORT_CATEGORIES,
            rules=paying_rules(await work.rules.all(), "report"),
            back=here(request),
            local=local_time(work.clock),
            **listing.shown(REPORT_STATUSES, rows, lambda row: row),
        )


async def accept_report(work: Work, report_id: uuid.UUID, form: Any) -> None:
    await work.reports.accept(report_id, chosen_rule(form), await work.ledger())


async def resolve_report(work: Work, report_id: uuid.UUID, form: Any) -> None:
    resolution = text_field(form, "resolution")
    await work.reports.resolve(report_id, resolution, chosen_rule(form), None, await work.ledger())


REPORT_BUTTONS = [
    work_button(
        "/reports/{item_id:uuid}/accept", "console:accept_report", "/admin/reports", "accept_done", accept_report
    ),
    work_button(
        "/reports/{item_id:uuid}/escalate",
        "console:escalate_report",
        "/admin/reports",
        "escalate_done",
        lambda work, report_id, form: work.reports.escalate(
            report_id, str(form.get("note") or "").strip()[:2000] or None
        ),
    ),
    work_button(
        "/reports/{item_id:uuid}/reject",
        "console:reject_report",
        "/admin/reports",
        "reject_done",
        lambda work, report_id, form: work.reports.reject(report_id, text_field(form, "reason")),
    ),
    work_button(
        "/reports/{item_id:uuid}/resolve", "console:resolve_report", "/admin/reports", "resolve_done", resolve_report
    ),
]


WORK_CONTROLLERS = [ConsolePosts, ConsoleWishes, ConsoleReports, *POST_CLAIM_BUTTONS, *WISH_BUTTONS, *REPORT_BUTTONS]
