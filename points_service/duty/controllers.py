"""Posts, post claims and shifts over HTTP: parse, authorise by role, one service call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Annotated

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.schemas import ForMember
from points_service.auth.guards import member_or_staff, require_member, require_staff
from points_service.auth.principal import Principal
from points_service.duty.schemas import (
    AttendanceList,
    Decision,
    Holder,
    HolderList,
    MemberAttendance,
    MyPostClaim,
    MyPostClaimList,
    MyShift,
    MyShiftList,
    NamedShift,
    NamedShiftList,
    Post,
    PostClaim,
    PostCreate,
    PostPage,
    PostUpdate,
    Shift,
    ShiftPaid,
    ShiftsCreate,
    ShiftsScheduled,
    ShiftVerify,
    post_answer,
    post_claim_answer,
    post_claim_fields,
    shift_answer,
    shift_fields,
)
from points_service.duty.service import DutyService
from points_service.duty.shifts import WeeklySchedule
from points_service.errors import InvalidInput
from points_service.idempotency.service import IdempotencyKey, IdempotentWrites
from points_service.ledger.service import LedgerService
from points_service.pagination import Cursor, Limit, decode_cursor, next_page
from points_service.proxies.schemas import Actor
from points_service.proxies.service import actors

MAX_RANGE = timedelta(days=366)
From = Annotated[datetime | None, QueryParameter(name="from", description="Start (inclusive), with its offset")]
To = Annotated[datetime | None, QueryParameter(name="to", description="End (exclusive), with its offset")]


def _range(start: datetime | None, end: datetime | None, default_back: timedelta) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    start = start or now - default_back
    end = end or start + timedelta(days=60)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from", "times carry their offset")
    if not start < end <= start + MAX_RANGE:
        raise InvalidInput("to", "must be after `from` and at most a year later")
    return start, end


async def _shown(
    db_session: AsyncSession, principal: Principal, accounts: list[uuid.UUID | None]
) -> dict[uuid.UUID, Actor]:
    return await actors(db_session, principal.tenant_id, accounts, principal.role in ("staff", "admin"))


class PostController(Controller):
    path = "/posts"
    tags = ["posts and shifts"]

    @post("/", guards=[require_staff], summary="Define a post (岗位) in an org unit of the caller's subtree")
    async def create(self, data: PostCreate, duties: DutyService) -> Post:
        created = await duties.create_post(
            data.org_unit_id, data.name.strip(), data.duty, data.schedule.strip(), data.rule_code
        )
        return post_answer(created, data.rule_code, holders=0)

    @get(
        "/",
        guards=[member_or_staff],
        summary="Posts a member may claim (their unit, its ancestors, below it), or a staff subtree's",
    )
    async def list_posts(self, duties: DutyService, limit: Limit = 50, cursor: Cursor = None) -> PostPage:
        rows = await duties.posts(limit, decode_cursor(cursor))
        items = [post_answer(found, code, unit, holders) for found, unit, code, holders in rows]
        return PostPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))

    @get("/{post_id:uuid}", guards=[member_or_staff], summary="One post")
    async def read(self, post_id: uuid.UUID, duties: DutyService) -> Post:
        found = await duties.visible_post(post_id)
        return post_answer(found, await duties.rule_code(found))

    @patch("/{post_id:uuid}", guards=[require_staff], summary="Open or close a post (`active`)")
    async def update(self, post_id: uuid.UUID, data: PostUpdate, duties: DutyService) -> Post:
        found = await duties.set_active(post_id, data.active)
        return post_answer(found, await duties.rule_code(found))

    @post("/{post_id:uuid}/claims", guards=[member_or_staff], summary="Claim a post (认领); staff approve")
    async def claim(
        self,
        post_id: uuid.UUID,
        duties: DutyService,
        principal: Principal,
        db_session: AsyncSession,
        data: ForMember | None = None,
    ) -> PostClaim:
        claim = await duties.claim_post(post_id, data.member_id if data else None)
        return post_claim_answer(claim, await _shown(db_session, principal, [claim.acted_by]))

    @get("/{post_id:uuid}/holders", guards=[require_staff], summary="Who holds the post or has claimed it")
    async def holders(
        self, post_id: uuid.UUID, duties: DutyService, principal: Principal, db_session: AsyncSession
    ) -> HolderList:
        rows = await duties.holders(post_id)
        shown = await _shown(db_session, principal, [claim.acted_by for claim, _ in rows])
        return HolderList([Holder(**post_claim_fields(claim, shown), name=name) for claim, name in rows])

    @post(
        "/{post_id:uuid}/shifts",
        guards=[require_staff],
        summary="Schedule shifts for a holder: one-off windows or a weekly pattern; repeats are skipped",
    )
    async def schedule(self, post_id: uuid.UUID, data: ShiftsCreate, duties: DutyService) -> ShiftsScheduled:
        if data.windows is not None:
            windows = [(window.starts_at, window.ends_at) for window in data.windows]
        elif None not in (data.weekday, data.start_time, data.end_time, data.first_day):
            assert data.weekday and data.start_time and data.end_time and data.first_day
            windows = duties.weekly(
                WeeklySchedule(
                    data.weekday,
                    time.fromisoformat(data.start_time),
                    time.fromisoformat(data.end_time),
                    data.first_day,
                    data.weeks,
                )
            )
        else:
            raise InvalidInput("windows", "give windows, or weekday, start_time, end_time and first_day")
        shifts = await duties.schedule(post_id, data.member_id, windows)
        return ShiftsScheduled(len(shifts), [shift_answer(shift) for shift in shifts])

    @get("/{post_id:uuid}/shifts", guards=[require_staff], summary="A post's shifts starting in [from, to)")
    async def post_shifts(
        self,
        post_id: uuid.UUID,
        duties: DutyService,
        principal: Principal,
        db_session: AsyncSession,
        from_: From = None,
        to: To = None,
    ) -> NamedShiftList:
        first, last = _range(from_, to, timedelta(days=7))
        rows = await duties.post_shifts(post_id, first, last)
        shown = await _shown(
            db_session, principal, [a for shift, _ in rows for a in (shift.checked_in_by, shift.checked_out_by)]
        )
        return NamedShiftList([NamedShift(**shift_fields(shift, shown), name=name) for shift, name in rows])


class PostClaimController(Controller):
    path = "/post-claims"
    tags = ["posts and shifts"]

    @post("/{claim_id:uuid}/approve", status_code=200, guards=[require_staff], summary="Approve: the member holds it")
    async def approve(self, claim_id: uuid.UUID, duties: DutyService) -> PostClaim:
        claim = await duties.decide_post_claim(claim_id, True, None)
        return post_claim_answer(claim, {})

    @post("/{claim_id:uuid}/reject", status_code=200, guards=[require_staff], summary="Reject, with a reason")
    async def reject(self, claim_id: uuid.UUID, data: Decision, duties: DutyService) -> PostClaim:
        claim = await duties.decide_post_claim(claim_id, False, data.reason)
        return post_claim_answer(claim, {})

    @post(
        "/{claim_id:uuid}/release",
        status_code=200,
        guards=[member_or_staff],
        summary="Give a post up (the holder), or take it back (staff)",
    )
    async def release(self, claim_id: uuid.UUID, duties: DutyService) -> PostClaim:
        return post_claim_answer(await duties.release(claim_id), {})


class ShiftController(Controller):
    path = "/shifts"
    tags = ["posts and shifts"]

    @post(
        "/{shift_id:uuid}/check-in",
        status_code=200,
        guards=[member_or_staff],
        summary="Check in: from 20 minutes before the start until the end (oneself, or as proxy / staff)",
    )
    async def check_in(self, shift_id: uuid.UUID, duties: DutyService, data: ForMember | None = None) -> Shift:
        return shift_answer(await duties.check_in(shift_id, data.member_id if data else None, datetime.now(UTC)))

    @post(
        "/{shift_id:uuid}/check-out",
        status_code=200,
        guards=[member_or_staff],
        summary="Check out: the verified time on duty is paid once under the post's rule (idem)",
    )
    async def check_out(
        self,
        shift_id: uuid.UUID,
        request: Request,
        duties: DutyService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        data: ForMember | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ShiftPaid]:
        body = data or ForMember()

        async def check_out() -> ShiftPaid:
            done = await duties.check_out(shift_id, body.member_id, datetime.now(UTC), ledger)
            return ShiftPaid(**shift_fields(done.shift), points=done.points, balance=done.balance)

        return await idempotent.run(idempotency_key, request.url.path, body, check_out, status=200)

    @post(
        "/{shift_id:uuid}/verify",
        status_code=200,
        guards=[require_staff],
        summary="Staff record the time really served and pay it once (a forgotten check-out) (idem)",
    )
    async def verify(
        self,
        shift_id: uuid.UUID,
        data: ShiftVerify,
        request: Request,
        duties: DutyService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ShiftPaid]:
        async def verify() -> ShiftPaid:
            done = await duties.verify(shift_id, data.checked_in_at, data.checked_out_at, ledger)
            return ShiftPaid(**shift_fields(done.shift), points=done.points, balance=done.balance)

        return await idempotent.run(idempotency_key, request.url.path, data, verify, status=200)


class MyDutyController(Controller):
    path = "/me"
    tags = ["me"]
    guards = [require_member]

    @get("/posts", summary="My post claims and the posts I hold")
    async def my_posts(self, duties: DutyService) -> MyPostClaimList:
        rows = await duties.my_post_claims()
        return MyPostClaimList(
            [
                MyPostClaim(**post_claim_fields(claim, {}), post=post_answer(held, rule_code))
                for claim, held, rule_code in rows
            ]
        )

    @get("/shifts", summary="My shifts starting in [from, to) (default: the past week and the next 60 days)")
    async def my_shifts(
        self, duties: DutyService, principal: Principal, db_session: AsyncSession, from_: From = None, to: To = None
    ) -> MyShiftList:
        first, last = _range(from_, to, timedelta(days=7))
        rows = await duties.my_shifts(first, last)
        own = principal.account_id
        shown = await _shown(
            db_session,
            principal,
            [a for shift, _ in rows for a in (shift.checked_in_by, shift.checked_out_by) if a != own],
        )
        return MyShiftList([MyShift(**shift_fields(shift, shown), post_name=held.name) for shift, held in rows])


class DutyAttendanceController(Controller):
    path = "/duty"
    tags = ["posts and shifts"]
    guards = [require_staff]

    @get(
        "/attendance",
        summary="Duty attendance per member of a subtree: shifts due in [from, to), attended, rate, hours",
    )
    async def attendance(
        self, org_unit_id: uuid.UUID, duties: DutyService, from_: From = None, to: To = None
    ) -> AttendanceList:
        first, last = _range(from_, to, timedelta(days=30))
        rows = await duties.subtree_attendance(org_unit_id, first, last)
        return AttendanceList(
            [
                MemberAttendance(
                    member_id, name, due, attended, round(attended / due, 4) if due else None, float(hours)
                )
                for member_id, name, due, attended, hours in rows
            ]
        )
