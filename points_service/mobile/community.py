"""The member page's community screens, reached from the "更多服务" grid on the home tab: micro-wishes
(微心愿), problem reports with photos (问题上报), registering with the home community (双报到), duty posts
and shifts (岗位), and choosing whom a proxy acts for (代办).

Each screen calls the same services as the JSON API with the signed-in member's Principal; each action
is a CSRF-checked form run in a savepoint (`Page.act`) that comes back with a message. A proxy's choice of
the member they act for is kept in a cookie and checked again by `ProxyService.acting_for` on every use,
so a stale or forged choice acts for nobody.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.schemas import ForMember
from points_service.auth.principal import Principal
from points_service.duty.models import Post, Shift
from points_service.duty.service import DutyService
from points_service.duty.shifts import CHECK_IN_OPENS_BEFORE, CHECK_OUT_GRACE, OutsideShiftWindow, shift_status
from points_service.errors import DomainError, InvalidInput, NotFound
from points_service.idempotency.service import IdempotentWrites
from points_service.ledger.service import LedgerService
from points_service.mobile.acting import ACTING_COOKIE, acting_for
from points_service.mobile.neighbours import acted_for, communities, made_by_staff, member_of, unit_name
from points_service.mobile.page import MEMBER_PAGE, stored_refusal
from points_service.proxies.service import ProxyService
from points_service.registration.service import RegistrationService
from points_service.reports.models import REPORT_CATEGORIES
from points_service.reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, PhotoStore, checked
from points_service.reports.service import ReportService
from points_service.tenancy.periods import TenantClock
from points_service.web import Message, local_time, set_page_cookie
from points_service.wishes.schemas import wish_answer
from points_service.wishes.service import WishService

AnyRequest = Request[Any, Any, Any]
WISHES_PATH = "/member/wishes"
REPORTS_PATH = "/member/reports"
REGISTRATION_PATH = "/member/registration"
POSTS_PATH = "/member/posts"
ACTING_PATH = "/member/acting"
WISHES_SHOWN = 300
REPORTS_SHOWN = 50
POSTS_SHOWN = 50
SHIFTS_BACK = timedelta(days=7)
SHIFTS_AHEAD = timedelta(days=60)
# One photo more than a report takes, each at its limit, and the form's text: such a form is read
# whole and refused in words. A larger body is cut off with 413 before it is read, and a browser still
# sending it may show a broken connection instead of the page's words.
UPLOAD_MOST = (MAX_PHOTOS + 1) * MAX_PHOTO_BYTES + 256 * 1024


def _text(form: Any, name: str, most: int) -> str:
    value = str(form.get(name) or "").strip()
    if not value or len(value) > most:
        raise InvalidInput(name, f"1 to {most} characters")
    return value


def _optional(form: Any, name: str, most: int) -> str | None:
    value = str(form.get(name) or "").strip()
    if len(value) > most:
        raise InvalidInput(name, f"at most {most} characters")
    return value or None


def _uuid(value: object, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise InvalidInput(name, "not an id") from error


class WishesController(Controller):
    """微心愿: open wishes near me, the ones I (or the member I act for) hold, and posting one."""

    path = "/"

    @get("/wishes", name="member_page:wishes")
    async def wishes_screen(
        self,
        request: AnyRequest,
        principal: Principal,
        wishes: WishService,
        proxies: ProxyService,
        db_session: AsyncSession,
        clock: TenantClock,
    ) -> Template:
        acting = await acting_for(request, db_session, principal, proxies)
        holder = acting.member_id if acting else principal.member_id
        rows = await wishes.listed(None, WISHES_SHOWN, None)
        shown = [(wish, wish_answer(wish, principal, unit)) for wish, unit in reversed(rows[:WISHES_SHOWN])]
        return MEMBER_PAGE.render(
            request,
            "wishes",
            acting=acting,
            open_wishes=[answer for wish, answer in shown if wish.status == "open"],
            mine=[answer for wish, answer in shown if wish.claimed_by == holder],
            posted=[answer for wish, answer in shown if wish.posted_by == principal.account_id],
            local=local_time(clock),
            tab="home",
        )

    @post("/wishes", name="member_page:post_wish")
    async def post_wish(
        self,
        request: AnyRequest,
        principal: Principal,
        wishes: WishService,
        proxies: ProxyService,
        db_session: AsyncSession,
    ) -> Redirect:
        form = await request.form()
        acting = await acting_for(request, db_session, principal, proxies)

        async def post_it() -> Message:
            # A proxy posts in the unit of the resident they act for; a member in their own.
            assert principal.member_id is not None
            whose = acting.member_id if acting else principal.member_id
            resident = await member_of(db_session, principal.tenant_id, whose)
            if resident is None:
                raise NotFound("No such member")
            fields = {
                "org_unit_id": resident.org_unit_id,
                "title": _text(form, "title", 200),
                "description": _optional(form, "description", 2000) or "",
                "resident_name": _text(form, "resident_name", 50),
                "resident_contact": _optional(form, "resident_contact", 50),
            }
            await wishes.post(fields, None)
            return Message.done("wish_posted")

        return await MEMBER_PAGE.act(request, db_session, WISHES_PATH, post_it)

    async def _wish_act(
        self,
        request: AnyRequest,
        principal: Principal,
        proxies: ProxyService,
        db_session: AsyncSession,
        act: Any,
        done: str,
    ) -> Redirect:
        acting = await acting_for(request, db_session, principal, proxies)

        async def run() -> Message:
            await act(acting.member_id if acting else None)
            return Message.done(done)

        return await MEMBER_PAGE.act(request, db_session, WISHES_PATH, run)

    @post("/wishes/{wish_id:uuid}/claim", name="member_page:claim_wish")
    async def claim_wish(
        self,
        request: AnyRequest,
        wish_id: uuid.UUID,
        principal: Principal,
        wishes: WishService,
        proxies: ProxyService,
        db_session: AsyncSession,
    ) -> Redirect:
        async def claim(member_id: uuid.UUID | None) -> None:
            await wishes.claim(wish_id, member_id)

        return await self._wish_act(request, principal, proxies, db_session, claim, "wish_claimed")

    @post("/wishes/{wish_id:uuid}/release", name="member_page:release_wish")
    async def release_wish(
        self,
        request: AnyRequest,
        wish_id: uuid.UUID,
        principal: Principal,
        wishes: WishService,
        proxies: ProxyService,
        db_session: AsyncSession,
    ) -> Redirect:
        async def release(member_id: uuid.UUID | None) -> None:
            await wishes.release(wish_id, member_id)

        return await self._wish_act(request, principal, proxies, db_session, release, "wish_released")

    @post("/wishes/{wish_id:uuid}/fulfil", name="member_page:fulfil_wish")
    async def fulfil_wish(
        self,
        request: AnyRequest,
        wish_id: uuid.UUID,
        principal: Principal,
        wishes: WishService,
        proxies: ProxyService,
        db_session: AsyncSession,
    ) -> Redirect:
        form = await request.form()

        async def fulfil(member_id: uuid.UUID | None) -> None:
            await wishes.fulfil(wish_id, _text(form, "note", 1000), member_id)

        return await self._wish_act(request, principal, proxies, db_session, fulfil, "wish_fulfilled")


class ReportsController(Controller):
    """问题上报: my reports with their state and answers, filing one with photos, and the photos."""

    path = "/"

    @get("/reports", name="member_page:reports")
    async def reports_screen(
        self,
        request: AnyRequest,
        principal: Principal,
        reports: ReportService,
        proxies: ProxyService,
        db_session: AsyncSession,
        clock: TenantClock,
    ) -> Template:
        return MEMBER_PAGE.render(
            request,
            "reports",
            acting=await acting_for(request, db_session, principal, proxies),
            reports=(await reports.listed(None, REPORTS_SHOWN, None))[:REPORTS_SHOWN],
            categories=REPORT_CATEGORIES,
            local=local_time(clock),
            tab="home",
        )

    @get("/reports/{report_id:uuid}", name="member_page:report")
    async def report_screen(
        self,
        request: AnyRequest,
        report_id: uuid.UUID,
        principal: Principal,
        reports: ReportService,
        proxies: ProxyService,
        db_session: AsyncSession,
        state: State,
        clock: TenantClock,
    ) -> Template:
        report = await reports.visible(report_id)
        return MEMBER_PAGE.render(
            request,
            "report",
            acting=await acting_for(request, db_session, principal, proxies),
            report=report,
            events=await reports.events(report_id),
            photos=await PhotoStore(state.settings.report_photos).names(principal.tenant_id, report_id),
            local=local_time(clock),
            tab="home",
        )

    @post("/reports", name="member_page:file_report", request_max_body_size=UPLOAD_MOST)
    async def file_report(
        self,
        request: AnyRequest,
        principal: Principal,
        reports: ReportService,
        proxies: ProxyService,
        db_session: AsyncSession,
        state: State,
    ) -> Redirect:
        form = await request.form()
        acting = await acting_for(request, db_session, principal, proxies)
        photos: list[bytes] = []
        for upload in form.getall("photos", []):
            if isinstance(upload, UploadFile) and upload.filename:
                # One byte past the limit is enough to refuse it.
                photos.append(await upload.read(MAX_PHOTO_BYTES + 1))
        filed: list[uuid.UUID] = []

        async def file_it() -> Message:
            category = str(form.get("category") or "")
            if category not in REPORT_CATEGORIES:
                raise InvalidInput("category", "choose a kind of problem")
            checked(photos)  # refused before anything is written
            report = await reports.file(
                acting.member_id if acting else None,
                category,
                _text(form, "place", 300),
                _text(form, "description", 2000),
            )
            await PhotoStore(state.settings.report_photos).save(principal.tenant_id, report.id, photos)
            filed.append(report.id)
            return Message.done("report_filed")

        try:
            async with db_session.begin_nested():
                message = await file_it()
        except DomainError as error:
            return MEMBER_PAGE.redirect(request, REPORTS_PATH, MEMBER_PAGE.refusal(request, error))
        # The reporter follows it on its own screen; a proxy's report is the member's to follow.
        back = REPORTS_PATH if acting else f"{REPORTS_PATH}/{filed[0]}"
        return MEMBER_PAGE.redirect(request, back, message)

    @get("/reports/{report_id:uuid}/photos/{name:str}", name="member_page:report_photo")
    async def report_photo(
        self, report_id: uuid.UUID, name: str, principal: Principal, reports: ReportService, state: State
    ) -> Response[bytes]:
        await reports.visible(report_id)
        photo = await PhotoStore(state.settings.report_photos).read(principal.tenant_id, report_id, name)
        return Response(photo.data, media_type=photo.media_type)


class RegistrationScreen(Controller):
    """双报到: an in-service Party member registers with the community they live in."""

    path = "/"

    @get("/registration", name="member_page:registration")
    async def registration_screen(
        self,
        request: AnyRequest,
        principal: Principal,
        registrations: RegistrationService,
        db_session: AsyncSession,
        clock: TenantClock,
    ) -> Template:
        assert principal.member_id is not None
        mine = await registrations.mine()
        me = await member_of(db_session, principal.tenant_id, principal.member_id)
        return MEMBER_PAGE.render(
            request,
            "registration",
            registration=mine,
            community_name=await unit_name(db_session, principal.tenant_id, mine.community_id) if mine else "",
            confirmed=mine is not None and await made_by_staff(db_session, principal.tenant_id, mine.created_by),
            in_service=me is not None and me.party_status == "in_service",
            communities=await communities(db_session, principal.tenant_id),
            local=local_time(clock),
            tab="home",
        )

    @post("/registration", name="member_page:register")
    async def register(
        self, request: AnyRequest, registrations: RegistrationService, db_session: AsyncSession
    ) -> Redirect:
        form = await request.form()

        async def register() -> Message:
            community_id = _uuid(form.get("community_id"), "community_id")
            await registrations.register(None, community_id, _text(form, "workplace", 200), None)
            return Message.done("registered")

        return await MEMBER_PAGE.act(request, db_session, REGISTRATION_PATH, register)


@dataclass(frozen=True)
class ShiftLine:
    id: uuid.UUID
    post_name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    hours: str
    # When check-in opens, in words, if it has not yet.
    opens: Message | None


def opens_at(shift: Shift, clock: TenantClock, now: datetime, refused: bool = False) -> Message | None:
    """When a shift's check-in opens, in words, if it has not opened yet (with the day when it is not
    today); `refused` says it as the answer to a check-in pressed too early."""
    opens = shift.starts_at - CHECK_IN_OPENS_BEFORE
    if now >= opens:
        return None
    local = opens.astimezone(clock.zone)
    same_day = local.date() == now.astimezone(clock.zone).date()
    key = ("shift_not_open_yet" if refused else "shift_opens_at") + ("" if same_day else "_day")
    before = int(CHECK_IN_OPENS_BEFORE.total_seconds() // 60)
    return Message.error(key, month=local.month, day=local.day, hour=local.hour, minute=local.minute, before=before)


def shift_line(shift: Shift, post: Post, clock: TenantClock, now: datetime) -> ShiftLine:
    """A shift as both shift lists show it (the activities tab, 岗位)."""
    hours = f"{float(shift.hours or 0):g}"
    return ShiftLine(
        shift.id,
        post.name,
        shift.starts_at,
        shift.ends_at,
        shift_status(shift, now),
        hours,
        opens_at(shift, clock, now),
    )


def shift_check_in_refusal(shift: Shift, clock: TenantClock, now: datetime) -> Message:
    """Why a shift's check-in was refused for its time, in words: when it opens, or that the shift is over."""
    return opens_at(shift, clock, now, refused=True) or Message.error("shift_window_closed")


async def check_in_to_shift(
    duties: DutyService,
    db_session: AsyncSession,
    principal: Principal,
    clock: TenantClock,
    shift_id: uuid.UUID,
    member_id: uuid.UUID | None,
) -> Message:
    """A shift check-in from either screen (activities tab, 岗位), or why it was refused for its time."""
    now = datetime.now(UTC)
    try:
        await duties.check_in(shift_id, member_id, now)
    except OutsideShiftWindow:
        # The service found the shift is the caller's to act on before it refused the time.
        shift = await db_session.get(Shift, (principal.tenant_id, shift_id))
        assert shift is not None
        return shift_check_in_refusal(shift, clock, now)
    return Message.done("checked_in")


class PostsController(Controller):
    """岗位: posts to claim, my claims, my shifts with check-in and check-out."""

    path = "/"

    @get("/posts", name="member_page:posts")
    async def posts_screen(
        self,
        request: AnyRequest,
        principal: Principal,
        duties: DutyService,
        proxies: ProxyService,
        db_session: AsyncSession,
        clock: TenantClock,
    ) -> Template:
        now = datetime.now(UTC)
        acting = await acting_for(request, db_session, principal, proxies)
        # A proxy sees the posts and shifts of whom they act for, as their actions are for them.
        whose = acting.member_id if acting else None
        claims = await duties.my_post_claims(whose)
        shifts = await duties.my_shifts(now - SHIFTS_BACK, now + SHIFTS_AHEAD, whose)
        return MEMBER_PAGE.render(
            request,
            "posts",
            acting=acting,
            posts=(await duties.posts(POSTS_SHOWN, None))[:POSTS_SHOWN],
            # My standing on each post I claimed and have not given up or been refused.
            claimed={claim.post_id: claim.status for claim, _, _ in claims if claim.status in ("pending", "approved")},
            claims=claims,
            shifts=[shift_line(shift, post, clock, now) for shift, post in shifts],
            new_key=lambda: uuid.uuid4().hex,
            local=local_time(clock),
            tab="home",
        )

    @post("/posts/{post_id:uuid}/claim", name="member_page:claim_post")
    async def claim_post(
        self,
        request: AnyRequest,
        post_id: uuid.UUID,
        principal: Principal,
        duties: DutyService,
        proxies: ProxyService,
        db_session: AsyncSession,
    ) -> Redirect:
        acting = await acting_for(request, db_session, principal, proxies)

        async def claim() -> Message:
            await duties.claim_post(post_id, acting.member_id if acting else None)
            return Message.done("post_claimed")

        return await MEMBER_PAGE.act(request, db_session, POSTS_PATH, claim)

    @post("/posts/shifts/{shift_id:uuid}/check-in", name="member_page:post_shift_check_in")
    async def check_in(
        self,
        request: AnyRequest,
        shift_id: uuid.UUID,
        principal: Principal,
        duties: DutyService,
        proxies: ProxyService,
        db_session: AsyncSession,
        clock: TenantClock,
    ) -> Redirect:
        acting = await acting_for(request, db_session, principal, proxies)

        async def check_in() -> Message:
            member_id = acting.member_id if acting else None
            return await check_in_to_shift(duties, db_session, principal, clock, shift_id, member_id)

        return await MEMBER_PAGE.act(request, db_session, POSTS_PATH, check_in)

    @post("/posts/shifts/{shift_id:uuid}/check-out", name="member_page:post_shift_check_out")
    async def check_out(
        self,
        request: AnyRequest,
        shift_id: uuid.UUID,
        principal: Principal,
        duties: DutyService,
        proxies: ProxyService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        db_session: AsyncSession,
    ) -> Redirect:
        key = str((await request.form()).get("key") or "").strip() or None
        acting = await acting_for(request, db_session, principal, proxies)

        async def check_out() -> dict[str, Any]:
            done = await duties.check_out(shift_id, acting.member_id if acting else None, datetime.now(UTC), ledger)
            return {"id": done.shift.id, "points": done.points}

        # The same key-guarded write as the API's check-out: a repeated form replays the first answer.
        try:
            outcome = await idempotent.run(key, request.url.path, ForMember(), check_out, status=200)
        except OutsideShiftWindow:
            grace = int(CHECK_OUT_GRACE.total_seconds() // 60)
            return MEMBER_PAGE.redirect(request, POSTS_PATH, Message.error("shift_check_out_closed", grace=grace))
        except DomainError as error:
            return MEMBER_PAGE.redirect(request, POSTS_PATH, MEMBER_PAGE.refusal(request, error))
        if outcome.status_code >= 400:
            return MEMBER_PAGE.redirect(request, POSTS_PATH, stored_refusal(MEMBER_PAGE, request, outcome))
        done = Message.done("checked_out", points=int(outcome.content["points"]))
        return MEMBER_PAGE.redirect(request, POSTS_PATH, done)


class ActingController(Controller):
    """代办: a proxy chooses the member they act for; the other screens then act for them."""

    path = "/"

    @get("/acting", name="member_page:acting")
    async def acting_screen(
        self, request: AnyRequest, principal: Principal, proxies: ProxyService, db_session: AsyncSession
    ) -> Template:
        assert principal.member_id is not None
        return MEMBER_PAGE.render(
            request,
            "acting",
            acting=await acting_for(request, db_session, principal, proxies),
            choices=await acted_for(db_session, principal.tenant_id, principal.member_id),
            tab="home",
        )

    @post("/acting", name="member_page:choose_acting")
    async def choose(self, request: AnyRequest, proxies: ProxyService) -> Redirect:
        form = await request.form()
        chosen = str(form.get("member_id") or "").strip()
        if not chosen:
            response = MEMBER_PAGE.redirect(request, ACTING_PATH, Message.done("acting_stopped"))
            response.delete_cookie(key=ACTING_COOKIE, path=MEMBER_PAGE.path)
            return response
        try:
            member_id = _uuid(chosen, "member_id")
            await proxies.acting_for(member_id)
        except DomainError as error:
            return MEMBER_PAGE.redirect(request, ACTING_PATH, MEMBER_PAGE.refusal(request, error))
        response = MEMBER_PAGE.redirect(request, ACTING_PATH, Message.done("acting_started"))
        set_page_cookie(
            request,
            response,
            key=ACTING_COOKIE,
            value=str(member_id),
            max_age=MEMBER_PAGE.session_seconds,
            path=MEMBER_PAGE.path,
        )
        return response


COMMUNITY_CONTROLLERS = [WishesController, ReportsController, RegistrationScreen, PostsController, ActingController]
