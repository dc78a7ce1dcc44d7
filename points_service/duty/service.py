"""Posts and shifts: staff define posts, members claim them (staff approve), holders get shifts (one-off
or weekly), check in and out, and verified time on duty is paid per hour through the ledger.

Posts and their claims are `PostService` (posts.py), the rules of a shift's time are in shifts.py; this
module adds the shifts themselves, check-in and check-out, payment and the subtree's attendance.

A check-out pays once, sourced `shift:<id>`: the shift's row lock makes a second check-out wait and
then find the shift already checked out, and the unique source would refuse a second payment anyway.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from points_service.database.session import savepoint
from points_service.duty.models import Post, PostClaim, Shift
from points_service.duty.posts import OwnDecision, PostInactive, PostService
from points_service.duty.shifts import (
    CHECK_IN_OPENS_BEFORE,
    CHECK_OUT_GRACE,
    MAX_SHIFT,
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    CheckOut,
    NotCheckedIn,
    NotHolder,
    OutsideShiftWindow,
    WeeklySchedule,
    duty_attendance,
    verified_hours,
    weekly_windows,
)
from points_service.errors import CapReached, InvalidInput, NotFound
from points_service.ledger.service import LedgerService, award_points
from points_service.org.models import Member, OrgUnit
from points_service.proxies.service import note_naming_proxy


class DutyService(PostService):
    """Posts (from `PostService`) and the shifts of their holders: a shift's reach is its post's."""

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

    async def my_shifts(
        self, start: datetime, end: datetime, for_member: uuid.UUID | None = None
    ) -> list[tuple[Shift, Post]]:
        """The caller's shifts, or (a proxy naming them in `for_member`) those of whom they act for."""
        member_id = (await self._proxies.acting_for(for_member)).member_id
        rows = await self._session.execute(
            select(Shift, Post)
            .join(Post, (Post.tenant_id == Shift.tenant_id) & (Post.id == Shift.post_id))
            .where(Shift.tenant_id == self._tenant_id, Shift.member_id == member_id)
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

    async def _pay(self, shift: Shift, ledger: LedgerService) -> tuple[int, int | None]:
        post, _ = await self._post_with_path(shift.post_id)
        rule = await self._rules.by_id(post.rule_id)
        assert shift.hours is not None
        quantity = shift.hours if rule.unit == "hour" else Decimal(1)
        try:
            award_points(rule, quantity)
        except InvalidInput:
            shift.unpaid_reason = "too_short"  # under a point's worth of verified time
            return 0, None
        note = await note_naming_proxy(
            self._session, self._tenant_id, post.name, shift.member_id, [shift.checked_out_by, shift.checked_in_by]
        )
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
