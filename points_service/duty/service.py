"""Posts and shifts: staff define posts, members claim them (staff approve), holders get shifts (one-off
or weekly), check in and out, and verified time on duty is paid per hour through the ledger.

A check-out pays once, sourced `shift:<id>`: the shift's row lock makes a second check-out wait and
then find the shift already checked out, and the unique source would refuse a second payment anyway.
Missed shifts are not written by a sweep: a shift whose end (plus a grace period) has passed without a
check-in *is* missed, so the attendance rate evaluations read is right at any moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.database.session import savepoint
from points_service.duty.models import Post, PostClaim, Shift
from points_service.errors import CapReached, Conflict, DomainError, InvalidInput, NotFound
from points_service.ledger.service import LedgerService, award_points
from points_service.org.models import Member, OrgUnit
from points_service.org.service import OrgService
from points_service.proxies.service import ProxyService, actor_label
from points_service.rules.models import Rule
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock

CHECK_IN_OPENS_BEFORE = timedelta(minutes=20)
# A holder may check out this long after the shift's end; later, staff check them out (verification).
CHECK_OUT_GRACE = timedelta(minutes=30)
MAX_SHIFT = timedelta(hours=12)
MAX_WEEKS = 26
# Paid time is counted in quarter hours, rounded down: ten minutes late costs a quarter, not a point.
QUARTER_HOUR = Decimal("0.25")


class AlreadyClaimed(DomainError):
    code = "already_claimed"
    title = "This member already holds or has claimed this post"


class NotPending(DomainError):
    code = "not_pending"
    title = "The claim has already been decided"


class NotHolder(DomainError):
    code = "not_holder"
    title = "Shifts are for the post's approved holders"


class OwnDecision(DomainError):
    status_code = 403
    code = "own_claim"
    title = "Nobody approves their own claim or verifies their own shift"


class OutsideShiftWindow(DomainError):
    code = "outside_shift_window"
    title = "Check-in for this shift is not open now"


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"
    title = "Already checked in to this shift"


class NotCheckedIn(DomainError):
    code = "not_checked_in"
    title = "Check in before checking out"


class AlreadyCheckedOut(DomainError):
    code = "already_checked_out"
    title = "This shift is already checked out (and paid once)"


class PostInactive(DomainError):
    code = "post_inactive"
    title = "This post is no longer staffed"


# When a shift counts for the attendance rate: attended, or over (with the check-out grace) unattended.
# As SQL over a `shifts s` alias with a `:grace` parameter, for the evaluation and warning queries.
SHIFT_DUE_SQL = "(s.checked_in_at IS NOT NULL OR s.ends_at + :grace < now())"


def shift_status(shift: Shift, now: datetime) -> str:
    if shift.checked_out_at is not None:
        return "completed"
    if shift.checked_in_at is not None:
        return "on_duty"
    if shift.ends_at + CHECK_OUT_GRACE < now:
        return "missed"
    return "scheduled"


def verified_hours(shift: Shift) -> Decimal:
    """The overlap of checked-in time with the scheduled time, in whole quarter hours."""
    assert shift.checked_in_at is not None and shift.checked_out_at is not None
    start = max(shift.checked_in_at, shift.starts_at)
    end = min(shift.checked_out_at, shift.ends_at)
    seconds = max((end - start).total_seconds(), 0)
    hours = Decimal(seconds) / Decimal(3600)
    return (hours / QUARTER_HOUR).to_integral_value(rounding=ROUND_DOWN) * QUARTER_HOUR


@dataclass(frozen=True)
class WeeklySchedule:
    weekday: int  # ISO: 1 Monday … 7 Sunday
    start: time
    end: time
    first_day: date
    weeks: int


def weekly_windows(schedule: WeeklySchedule, clock: TenantClock) -> list[tuple[datetime, datetime]]:
    """The shift windows of a weekly schedule, in the tenant's local time (so 9:00 stays 9:00)."""
    if schedule.end <= schedule.start:
        raise InvalidInput("end_time", "must be after start_time")
    if not 1 <= schedule.weeks <= MAX_WEEKS:
        raise InvalidInput("weeks", f"must be 1 to {MAX_WEEKS}")
    first = schedule.first_day + timedelta(days=(schedule.weekday - schedule.first_day.isoweekday()) % 7)
    windows = []
    for week in range(schedule.weeks):
        day = first + timedelta(weeks=week)
        windows.append(
            (
                datetime.combine(day, schedule.start, clock.zone).astimezone(UTC),
                datetime.combine(day, schedule.end, clock.zone).astimezone(UTC),
            )
        )
    return windows


@dataclass(frozen=True)
class CheckOut:
    shift: Shift
    points: int
    balance: int | None


class DutyService:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        org: OrgService,
        rules: RuleService,
        proxies: ProxyService,
        clock: TenantClock,
    ) -> None:
        self._session = session
        self._principal = principal
        self._tenant_id = principal.tenant_id
        self._org = org
        self._rules = rules
        self._proxies = proxies
        self._clock = clock

    # -- posts ------------------------------------------------------------------------------------

    async def create_post(self, org_unit_id: uuid.UUID, name: str, duty: str, schedule: str, rule_code: str) -> Post:
        await self._org.unit_in_reach(org_unit_id)
        rule = await self._rules.by_code(rule_code)
        post = Post(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            org_unit_id=org_unit_id,
            name=name,
            duty=duty,
            schedule=schedule,
            rule_id=rule.id,
            created_by=self._principal.account_id,
            active=True,
        )
        self._session.add(post)
        try:
            async with self._session.begin_nested():
                await self._session.flush()
        except IntegrityError as error:
            raise Conflict(f"The unit already has a post named {name}") from error
        return post

    async def _post_with_path(self, post_id: uuid.UUID, for_update: bool = False) -> tuple[Post, str]:
        statement = (
            select(Post, OrgUnit.path)
            .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
            .where(Post.tenant_id == self._tenant_id, Post.id == post_id)
        )
        if for_update:
            statement = statement.with_for_update(of=Post)
        found = (await self._session.execute(statement)).first()
        if found is None:
            raise NotFound(f"No such post: {post_id}")
        return found[0], found[1]

    async def post_in_reach(self, post_id: uuid.UUID) -> Post:
        """Staff: a post of their subtree, else 404."""
        post, path = await self._post_with_path(post_id)
        (await self._org.reach()).require(path, f"No such post: {post_id}")
        return post

    async def visible_post(self, post_id: uuid.UUID, member_id: uuid.UUID | None = None) -> Post:
        member_id = member_id or self._principal.member_id
        if member_id is None:
            return await self.post_in_reach(post_id)
        post, path = await self._post_with_path(post_id)
        if not await self._org.near_member(member_id, path):
            raise NotFound(f"No such post: {post_id}")
        return post

    async def set_active(self, post_id: uuid.UUID, active: bool) -> Post:
        post = await self.post_in_reach(post_id)
        post.active = active
        await self._session.flush()
        return post

    async def posts(
        self,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        org_unit_id: uuid.UUID | None = None,
        active: bool | None = None,
    ) -> list[tuple[Post, str, str, int]]:
        """Posts a member may claim, or a staff subtree's (or that of a unit within it, open or closed
        ones only), each with its unit's name, rule code and number of approved holders; oldest first."""
        holders = (
            select(func.count())
            .where(PostClaim.tenant_id == Post.tenant_id, PostClaim.post_id == Post.id, PostClaim.status == "approved")
            .scalar_subquery()
        )
        statement = (
            select(Post, OrgUnit.name, Rule.code, holders)
            .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
            .join(Rule, (Rule.tenant_id == Post.tenant_id) & (Rule.id == Post.rule_id))
            .where(Post.tenant_id == self._tenant_id)
        )
        if self._principal.role == "member":
            assert self._principal.member_id is not None
            near = await self._org.near_member_clause(self._principal.member_id, OrgUnit.path)
            statement = statement.where(Post.active, near)
        else:
            statement = (await self._org.reach(within=org_unit_id)).filter(statement, OrgUnit.path)
            if active is not None:
                statement = statement.where(Post.active.is_(active))
        if after is not None:
            statement = statement.where(func.row(Post.created_at, Post.id) > func.row(after[0], after[1]))
        statement = statement.order_by(Post.created_at, Post.id).limit(limit + 1)
        return [(post, unit, code, count) for post, unit, code, count in await self._session.execute(statement)]

    async def rule_code(self, post: Post) -> str:
        code = await self._session.scalar(
            select(Rule.code).where(Rule.tenant_id == self._tenant_id, Rule.id == post.rule_id)
        )
        assert code is not None
        return str(code)

    # -- claiming a post (认领) ----------------------------------------------------------------------

    async def claim_post(self, post_id: uuid.UUID, member_id: uuid.UUID | None) -> PostClaim:
        acting = await self._proxies.acting_for(member_id)
        post = await self.visible_post(post_id, acting.member_id)
        if not post.active:
            raise PostInactive()
        claim = PostClaim(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            post_id=post.id,
            member_id=acting.member_id,
            status="pending",
            acted_by=acting.acted_by,
        )
        self._session.add(claim)
        try:
            async with self._session.begin_nested():
                await self._session.flush()
        except IntegrityError as error:
            raise AlreadyClaimed() from error
        return claim

    async def post_claim_in_reach(self, claim_id: uuid.UUID, for_update: bool = False) -> PostClaim:
        statement = (
            select(PostClaim)
            .join(Post, (Post.tenant_id == PostClaim.tenant_id) & (Post.id == PostClaim.post_id))
            .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
            .where(PostClaim.tenant_id == self._tenant_id, PostClaim.id == claim_id)
            .where((await self._org.reach()).clause(OrgUnit.path))
        )
        if for_update:
            statement = statement.with_for_update(of=PostClaim)
        claim = await self._session.scalar(statement)
        if claim is None:
            raise NotFound(f"No such post claim: {claim_id}")
        return claim

    async def decide_post_claim(self, claim_id: uuid.UUID, approve: bool, reason: str | None) -> PostClaim:
        if not approve and not (reason and reason.strip()):
            raise InvalidInput("reason", "must not be empty")
        claim = await self.post_claim_in_reach(claim_id, for_update=True)
        if claim.member_id == self._principal.member_id:
            raise OwnDecision()
        if claim.status != "pending":
            raise NotPending(f"The claim is {claim.status}")
        claim.status = "approved" if approve else "rejected"
        claim.reason = None if approve else (reason or "").strip()
        claim.decided_by = self._principal.account_id
        claim.decided_at = datetime.now(UTC)
        await self._session.flush()
        return claim

    async def release(self, claim_id: uuid.UUID) -> PostClaim:
        """The holder gives the post up (or staff take it back); future shifts stay on record as scheduled."""
        if self._principal.role == "member":
            claim = await self._session.scalar(
                select(PostClaim)
                .where(PostClaim.tenant_id == self._tenant_id, PostClaim.id == claim_id)
                .with_for_update()
            )
            if claim is None or claim.member_id != self._principal.member_id:
                raise NotFound(f"No such post claim: {claim_id}")
        else:
            claim = await self.post_claim_in_reach(claim_id, for_update=True)
        if claim.status not in ("pending", "approved"):
            raise NotPending(f"The claim is {claim.status}")
        claim.status = "released"
        await self._session.flush()
        return claim

    async def holders(self, post_id: uuid.UUID) -> list[tuple[PostClaim, str]]:
        await self.post_in_reach(post_id)
        rows = await self._session.execute(
            select(PostClaim, Member.name)
            .join(Member, (Member.tenant_id == PostClaim.tenant_id) & (Member.id == PostClaim.member_id))
            .where(PostClaim.tenant_id == self._tenant_id, PostClaim.post_id == post_id)
            .where(PostClaim.status.in_(("pending", "approved")))
            .order_by(PostClaim.created_at, PostClaim.id)
        )
        return [(claim, name) for claim, name in rows]

    async def my_post_claims(self) -> list[tuple[PostClaim, Post, str]]:
        """My claims with their posts and the posts' rule codes."""
        assert self._principal.member_id is not None
        rows = await self._session.execute(
            select(PostClaim, Post, Rule.code)
            .join(Post, (Post.tenant_id == PostClaim.tenant_id) & (Post.id == PostClaim.post_id))
            .join(Rule, (Rule.tenant_id == Post.tenant_id) & (Rule.id == Post.rule_id))
            .where(PostClaim.tenant_id == self._tenant_id, PostClaim.member_id == self._principal.member_id)
            .order_by(PostClaim.created_at.desc(), PostClaim.id.desc())
            .limit(200)
        )
        return [(claim, post, code) for claim, post, code in rows]

    # -- shifts -----------------------------------------------------------------------------------

    async def schedule(
        self, post_id: uuid.UUID, member_id: uuid.UUID, windows: list[tuple[datetime, datetime]]
    ) -> list[Shift]:
        """Shifts for an approved holder; windows already scheduled for them are skipped."""
        post = await self.post_in_reach(post_id)
        if not post.active:
            raise PostInactive()
        holds = await self._session.scalar(
            select(PostClaim.id).where(
                PostClaim.tenant_id == self._tenant_id,
                PostClaim.post_id == post.id,
                PostClaim.member_id == member_id,
                PostClaim.status == "approved",
            )
        )
        if holds is None:
            raise NotHolder()
        for starts_at, ends_at in windows:
            if ends_at <= starts_at or ends_at - starts_at > MAX_SHIFT:
                raise InvalidInput("ends_at", "a shift ends after it starts and lasts at most 12 hours")
        existing = set(
            await self._session.scalars(
                select(Shift.starts_at).where(
                    Shift.tenant_id == self._tenant_id,
                    Shift.post_id == post.id,
                    Shift.member_id == member_id,
                    Shift.starts_at.in_([starts for starts, _ in windows]),
                )
            )
        )
        shifts = [
            Shift(
                id=uuid.uuid4(),
                tenant_id=self._tenant_id,
                post_id=post.id,
                member_id=member_id,
                starts_at=starts_at,
                ends_at=ends_at,
                created_by=self._principal.account_id,
            )
            for starts_at, ends_at in windows
            if starts_at not in existing
        ]
        self._session.add_all(shifts)
        await self._session.flush()
        return shifts

    def weekly(self, schedule: WeeklySchedule) -> list[tuple[datetime, datetime]]:
        return weekly_windows(schedule, self._clock)

    async def post_shifts(self, post_id: uuid.UUID, start: datetime, end: datetime) -> list[tuple[Shift, str]]:
        await self.post_in_reach(post_id)
        rows = await self._session.execute(
            select(Shift, Member.name)
            .join(Member, (Member.tenant_id == Shift.tenant_id) & (Member.id == Shift.member_id))
            .where(Shift.tenant_id == self._tenant_id, Shift.post_id == post_id)
            .where(Shift.starts_at >= start, Shift.starts_at < end)
            .order_by(Shift.starts_at, Shift.id)
            .limit(1000)
        )
        return [(shift, name) for shift, name in rows]

    async def my_shifts(self, start: datetime, end: datetime) -> list[tuple[Shift, Post]]:
        assert self._principal.member_id is not None
        rows = await self._session.execute(
            select(Shift, Post)
            .join(Post, (Post.tenant_id == Shift.tenant_id) & (Post.id == Shift.post_id))
            .where(Shift.tenant_id == self._tenant_id, Shift.member_id == self._principal.member_id)
            .where(Shift.starts_at >= start, Shift.starts_at < end)
            .order_by(Shift.starts_at, Shift.id)
            .limit(500)
        )
        return [(shift, post) for shift, post in rows]

    async def _shift_for_act(self, shift_id: uuid.UUID, member_id: uuid.UUID | None) -> Shift:
        """The shift, locked, if the caller is its member, their proxy, or staff over the post."""
        shift = await self._session.scalar(
            select(Shift).where(Shift.tenant_id == self._tenant_id, Shift.id == shift_id).with_for_update()
        )
        if shift is None:
            raise NotFound(f"No such shift: {shift_id}")
        if self._principal.role == "member":
            acting = await self._proxies.acting_for(member_id or shift.member_id)
            if acting.member_id != shift.member_id:
                raise NotFound(f"No such shift: {shift_id}")
        else:
            await self.post_in_reach(shift.post_id)
        return shift

    async def check_in(self, shift_id: uuid.UUID, member_id: uuid.UUID | None, now: datetime) -> Shift:
        shift = await self._shift_for_act(shift_id, member_id)
        if shift.checked_in_at is not None:
            raise AlreadyCheckedIn()
        if not shift.starts_at - CHECK_IN_OPENS_BEFORE <= now <= shift.ends_at:
            raise OutsideShiftWindow(
                f"Check-in opens {int(CHECK_IN_OPENS_BEFORE.total_seconds() // 60)} minutes before the start "
                "and closes at the end"
            )
        shift.checked_in_at = now
        shift.checked_in_by = self._principal.account_id
        await self._session.flush()
        return shift

    async def check_out(
        self, shift_id: uuid.UUID, member_id: uuid.UUID | None, now: datetime, ledger: LedgerService
    ) -> CheckOut:
        shift = await self._shift_for_act(shift_id, member_id)
        if shift.checked_out_at is not None:
            raise AlreadyCheckedOut()
        if shift.checked_in_at is None:
            raise NotCheckedIn()
        if self._principal.role == "member" and now > shift.ends_at + CHECK_OUT_GRACE:
            raise OutsideShiftWindow("Check-out has closed for this shift: ask staff to verify it")
        if self._principal.role != "member" and self._principal.member_id == shift.member_id:
            raise OwnDecision()
        shift.checked_out_at = min(now, shift.ends_at + CHECK_OUT_GRACE)
        shift.checked_out_by = self._principal.account_id
        shift.hours = verified_hours(shift)
        points, balance = await self._pay(shift, ledger)
        await self._session.flush()
        return CheckOut(shift, points, balance)

    async def verify(
        self, shift_id: uuid.UUID, checked_in_at: datetime, checked_out_at: datetime, ledger: LedgerService
    ) -> CheckOut:
        """Staff record the time a holder really served (they forgot to check out, or had no phone)."""
        shift = await self._shift_for_act(shift_id, None)
        if self._principal.member_id == shift.member_id:
            raise OwnDecision()
        if shift.checked_out_at is not None:
            raise AlreadyCheckedOut()
        if not checked_in_at < checked_out_at:
            raise InvalidInput("checked_out_at", "must be after checked_in_at")
        opens, closes = shift.starts_at - CHECK_IN_OPENS_BEFORE, shift.ends_at + CHECK_OUT_GRACE
        if not (opens <= checked_in_at and checked_out_at <= closes):
            raise InvalidInput("checked_in_at", "the times must lie within the shift (and its check-in window)")
        if checked_out_at > datetime.now(UTC):
            raise InvalidInput("checked_out_at", "must not be in the future")
        shift.checked_in_at = checked_in_at
        shift.checked_in_by = shift.checked_in_by or self._principal.account_id
        shift.checked_out_at = checked_out_at
        shift.checked_out_by = self._principal.account_id
        shift.hours = verified_hours(shift)
        points, balance = await self._pay(shift, ledger)
        await self._session.flush()
        return CheckOut(shift, points, balance)

    async def _acted_for_member(self, shift: Shift) -> uuid.UUID | None:
        """The login that checked in or out for the member, if it was not the member's own."""
        for account_id in (shift.checked_out_by, shift.checked_in_by):
            if account_id is None:
                continue
            own = await self._session.scalar(
                select(LoginAccount.member_id).where(
                    LoginAccount.tenant_id == self._tenant_id, LoginAccount.id == account_id
                )
            )
            if own != shift.member_id:
                return account_id
        return None

    async def _pay(self, shift: Shift, ledger: LedgerService) -> tuple[int, int | None]:
        post, _ = await self._post_with_path(shift.post_id)
        rule = await self._session.scalar(
            select(Rule).where(Rule.tenant_id == self._tenant_id, Rule.id == post.rule_id)
        )
        assert rule is not None and shift.hours is not None
        quantity = shift.hours if rule.unit == "hour" else Decimal(1)
        try:
            award_points(rule, quantity)
        except InvalidInput:
            shift.unpaid_reason = "too_short"  # under a point's worth of verified time
            return 0, None
        note = post.name
        acted = await self._acted_for_member(shift)
        if acted is not None:
            # The member's history names who checked in or out for them (代办).
            note = f"{note} ({await actor_label(self._session, self._tenant_id, acted)})"
        try:
            # A savepoint, so a reached cap leaves the verified shift on record instead of undoing it.
            async with savepoint(self._session):
                posted = await ledger.award(shift.member_id, rule, quantity, note, f"shift:{shift.id}")
        except CapReached as reached:
            shift.unpaid_reason = f"cap_reached: {reached.detail}"[:200]
            return 0, None
        shift.transaction_id = posted.transaction_id
        return posted.points, posted.balance

    # -- duty attendance --------------------------------------------------------------------------

    async def subtree_attendance(
        self, unit_id: uuid.UUID, start: datetime, end: datetime
    ) -> list[tuple[uuid.UUID, str, int, int, Decimal]]:
        """Members of the subtree who had shifts due in [start, end), lowest attendance first."""
        subtree = await self._org.reach(within=unit_id)
        members = dict(
            (
                await self._session.execute(
                    select(Member.id, Member.name)
                    .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
                    .where(Member.tenant_id == self._tenant_id, subtree.clause(OrgUnit.path))
                    .where(
                        select(Shift.id)
                        .where(Shift.tenant_id == Member.tenant_id, Shift.member_id == Member.id)
                        .where(Shift.starts_at >= start, Shift.starts_at < end)
                        .exists()
                    )
                )
            ).all()
        )
        counts = await duty_attendance(self._session, self._tenant_id, list(members), start, end, datetime.now(UTC))
        rows = [(member_id, members[member_id], *counts[member_id]) for member_id in counts]
        return sorted(rows, key=lambda row: (row[3] / row[2], row[1], str(row[0])))


async def duty_attendance(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[uuid.UUID, tuple[int, int, Decimal]]:
    due = or_(Shift.checked_in_at.is_not(None), Shift.ends_at + CHECK_OUT_GRACE < now)
    rows = await session.execute(
        select(
            Shift.member_id,
            func.count(),
            func.count(Shift.checked_in_at),
            func.coalesce(func.sum(Shift.hours), 0),
        )
        .where(Shift.tenant_id == tenant_id, Shift.member_id.in_(member_ids))
        .where(and_(Shift.starts_at >= start, Shift.starts_at < end), due)
        .group_by(Shift.member_id)
    )
    return {member_id: (int(total), int(attended), Decimal(hours)) for member_id, total, attended, hours in rows}
