"""Activities (志愿服务活动): create, browse, sign up, check in and out, confirm attendance (who
attended for how long; confirmation.py pays them)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from points_service.activities.confirmation import Attendee, Confirmation, hours_between, pay_attendance
from points_service.activities.models import Activity, ActivitySignup
from points_service.activities.repository import ActivityRepository
from points_service.activities.tokens import check_in_token_valid
from points_service.auth.rate_limit import FailureLimiter
from points_service.earning import EarningContext, EarningService
from points_service.errors import DomainError, InvalidInput, NotFound
from points_service.inbox.notices import Notice, notify
from points_service.ledger.service import LedgerService
from points_service.org.reach import Subtree
from points_service.proxies.service import Acting

# Check-in opens this long before the start (issue 3) and check-out stays open this long after the end.
CHECK_IN_OPENS_BEFORE = timedelta(minutes=20)
CHECK_OUT_GRACE = timedelta(minutes=30)
# Wrong check-in codes one account may send per 15 minutes: room for typing slips, while the two valid
# six-digit short codes among a million cannot be found by trying.
CHECK_IN_MISSES_ALLOWED = 10
MAX_CAPACITY = 1000  # one confirmation pays everyone in one award_many, which takes at most 1,000 members
EARTH_RADIUS_M = 6_371_000.0


class ActivityFull(DomainError):
    code = "activity_full"
    title = "No places left"


class AlreadySignedUp(DomainError):
    code = "already_signed_up"
    title = "Already signed up"


class NotSignedUp(DomainError):
    code = "not_signed_up"
    title = "Not signed up to this activity"


class ActivityStarted(DomainError):
    code = "activity_started"
    title = "The activity has already started"


class ActivityOver(DomainError):
    code = "activity_over"
    title = "The activity is over"


class OutsideCheckInWindow(DomainError):
    code = "outside_check_in_window"
    title = "Check-in is not open now"


class InvalidCheckInToken(DomainError):
    code = "invalid_check_in_token"
    title = "This check-in code is not valid (it may have expired: scan the code shown now)"


class TooFarAway(DomainError):
    code = "too_far_away"
    title = "Too far from the activity's place"


class LocationRequired(DomainError):
    status_code = 400
    code = "location_required"
    title = "This activity checks where you are: send latitude and longitude"


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"
    title = "Already checked in"


class NotCheckedIn(DomainError):
    code = "not_checked_in"
    title = "Not checked in"


class AlreadyConfirmed(DomainError):
    code = "already_confirmed"
    title = "Attendance of this activity is already confirmed"


class ActivityCancelled(DomainError):
    code = "activity_cancelled"
    title = "The activity was cancelled"


class NotStarted(DomainError):
    code = "activity_not_started"
    title = "The activity has not started yet"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): plenty for "is this phone at the community centre"."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _check_window_and_place(fields: dict[str, Any]) -> None:
    if fields["ends_at"] <= fields["starts_at"]:
        raise InvalidInput("ends_at", "must be after starts_at")
    if fields["ends_at"] - fields["starts_at"] > timedelta(days=7):
        raise InvalidInput("ends_at", "an activity lasts at most 7 days")
    place_fields = [fields.get("latitude"), fields.get("longitude"), fields.get("radius_m")]
    if fields.get("radius_m") is not None and None in place_fields:
        raise InvalidInput("radius_m", "a radius needs the place's latitude and longitude")


def _still_open(activity: Activity) -> None:
    """Confirmed or cancelled is final."""
    if activity.confirmed_at is not None:
        raise AlreadyConfirmed()
    if activity.cancelled_at is not None:
        raise ActivityCancelled()


class ActivityService(EarningService):
    def __init__(self, earning: EarningContext, secret: str, misses: FailureLimiter | None = None) -> None:
        super().__init__(earning)
        self._repo = ActivityRepository(earning.session, earning.tenant_id)
        self._secret = secret
        self._misses = misses

    # -- staff: create and look after ---------------------------------------------------------------

    async def create(self, fields: dict[str, Any]) -> Activity:
        await self._org.unit_in_reach(fields["org_unit_id"])
        _check_window_and_place(fields)
        rule = await self._earning_rule(fields.pop("rule_code"))
        penalty_code = fields.pop("no_show_rule_code", None)
        penalty_rule_id = None
        if penalty_code is not None:
            penalty = await self._rules.by_code(penalty_code)
            if penalty.category != "penalty":
                raise InvalidInput("no_show_rule_code", "must name a penalty rule")
            penalty_rule_id = penalty.id
        return await self._repo.add(
            {**fields, "rule_id": rule.id, "penalty_rule_id": penalty_rule_id, "created_by": self._principal.account_id}
        )

    async def _earning_rule(self, code: str) -> Any:
        rule = await self._rules.by_code(code)
        if rule.category == "penalty":
            raise InvalidInput("rule_code", "an activity earns by a rule that is not a penalty")
        return rule

    async def update(self, activity_id: uuid.UUID, fields: dict[str, Any]) -> Activity:
        """Staff change an activity that is neither confirmed nor cancelled: its time window, place and
        radius, places (never below the members already signed up) and rule."""
        activity = await self.in_reach(activity_id, for_update=True)
        _still_open(activity)
        _check_window_and_place(fields)
        if fields["capacity"] < activity.signed_up:
            raise InvalidInput("capacity", f"{activity.signed_up} members have signed up already")
        activity.rule_id = (await self._earning_rule(fields.pop("rule_code"))).id
        for name, value in fields.items():
            setattr(activity, name, value)
        await self._repo.session.flush()
        return activity

    async def call_off(self, activity_id: uuid.UUID, reason: str) -> tuple[Activity, int]:
        """Staff cancel an activity before its attendance is confirmed. Its sign-ups stay, so each
        member who signed up sees it cancelled, and why; the number of those members is returned."""
        if not reason.strip():
            raise InvalidInput("reason", "must not be empty")
        activity = await self.in_reach(activity_id, for_update=True)
        _still_open(activity)
        activity.cancelled_at = datetime.now(UTC)
        activity.cancelled_by = self._principal.account_id
        activity.cancel_reason = reason.strip()[:500]
        await self._repo.session.flush()
        await self._tell_signed_up(activity)
        return activity, activity.signed_up

    async def _tell_signed_up(self, activity: Activity) -> None:
        """A message to each member still signed up, in the cancellation's transaction."""
        member_ids = await self._repo.session.scalars(
            select(ActivitySignup.member_id).where(
                ActivitySignup.tenant_id == activity.tenant_id,
                ActivitySignup.activity_id == activity.id,
                ActivitySignup.status == "signed_up",
            )
        )
        params = {"title": activity.title, "reason": activity.cancel_reason, "activity_id": str(activity.id)}
        await notify(
            self._repo.session,
            activity.tenant_id,
            [Notice(member_id, "activity_cancelled", params) for member_id in member_ids],
        )

    async def in_reach(self, activity_id: uuid.UUID, for_update: bool = False) -> Activity:
        """Staff: an activity in their subtree, else 404."""
        found = await self._repo.with_path(activity_id, for_update)
        if found is None or not (await self._org.reach()).covers(found[1]):
            raise NotFound(f"No such activity: {activity_id}")
        return found[0]

    async def signups(self, activity_id: uuid.UUID) -> list[tuple[ActivitySignup, str]]:
        await self.in_reach(activity_id)
        return await self._repo.signups(activity_id)

    # -- anyone: browse ----------------------------------------------------------------------------

    async def _seen_by(self, member_id: uuid.UUID | None) -> uuid.UUID:
        """The member whose view a member caller asks for: their own, or that of whom they act for."""
        return (await self._proxies.acting_for(member_id)).member_id

    async def listed(
        self,
        include_past: bool,
        limit: int,
        cursor: tuple[datetime, uuid.UUID] | None,
        for_member: uuid.UUID | None = None,
    ) -> list[Activity]:
        """What the caller may see; a member (or their proxy, naming them in `for_member`) sees what they may join."""
        after = None if include_past else datetime.now(UTC)
        if self._principal.role == "member":
            member_id = await self._seen_by(for_member)
            home = Subtree(await self._repo.member_path(member_id))
            registered = await self._repo.registered_path(member_id)
            community = Subtree(registered) if registered is not None else None
            return await self._repo.listed(home, None, after, limit, cursor, community)
        return await self._repo.listed(None, await self._org.reach(), after, limit, cursor)

    async def visible(self, activity_id: uuid.UUID, for_member: uuid.UUID | None = None) -> Activity:
        if self._principal.role == "member":
            return await self._joinable_by(activity_id, await self._seen_by(for_member))
        return await self.in_reach(activity_id)

    async def _joinable_by(self, activity_id: uuid.UUID, member_id: uuid.UUID, for_update: bool = False) -> Activity:
        """An activity of the member's unit, an ancestor of it, a unit below it, or of the community the
        member registered with; else 404."""
        found = await self._repo.with_path(activity_id, for_update)
        if found is None:
            raise NotFound(f"No such activity: {activity_id}")
        activity, path = found
        if not Subtree(await self._repo.member_path(member_id)).near(path):
            # In-service members serve where they live: the community they registered with (双报到).
            registered = await self._repo.registered_path(member_id)
            if registered is None or not Subtree(registered).covers(path):
                raise NotFound(f"No such activity: {activity_id}")
        return activity

    # -- members (or someone acting for them) ------------------------------------------------------

    async def sign_up(self, activity_id: uuid.UUID, member_id: uuid.UUID | None) -> ActivitySignup:
        acting = await self._proxies.acting_for(member_id)
        activity = await self._joinable_by(activity_id, acting.member_id)
        if activity.cancelled_at is not None:
            raise ActivityCancelled()
        if activity.confirmed_at is not None or activity.ends_at <= datetime.now(UTC):
            raise ActivityOver()
        existing = await self._repo.signup(activity_id, acting.member_id)
        if existing is not None and existing.status == "signed_up":
            raise AlreadySignedUp()
        # The place is taken first: its row lock orders concurrent sign-ups of this activity, and a
        # refusal below rolls the place back with the request's transaction.
        if not await self._repo.take_place(activity_id):
            raise ActivityFull(f"All {activity.capacity} places are taken")
        if not await self._repo.add_signup(activity_id, acting.member_id, acting.acted_by):
            raise AlreadySignedUp()
        signup = await self._repo.signup(activity_id, acting.member_id)
        assert signup is not None
        return signup

    async def cancel(self, activity_id: uuid.UUID, member_id: uuid.UUID | None) -> ActivitySignup:
        acting = await self._proxies.acting_for(member_id)
        activity = await self._joinable_by(activity_id, acting.member_id)
        signup = await self._held_signup(activity_id, acting.member_id)
        if activity.starts_at <= datetime.now(UTC) or signup.checked_in_at is not None:
            raise ActivityStarted("A sign-up cannot be cancelled once the activity has started")
        signup.status = "cancelled"
        signup.acted_by = acting.acted_by
        await self._repo.give_back_place(activity_id)
        await self._repo.session.flush()
        return signup

    async def check_in(
        self,
        activity_id: uuid.UUID,
        token: str,
        latitude: float | None,
        longitude: float | None,
        member_id: uuid.UUID | None,
    ) -> ActivitySignup:
        acting, activity, now = await self._scanned(activity_id, token, member_id)
        opens = activity.starts_at - CHECK_IN_OPENS_BEFORE
        if not opens <= now <= activity.ends_at:
            raise OutsideCheckInWindow(
                f"Check-in is open from {opens.isoformat()} to {activity.ends_at.isoformat()}",
                opens_at=opens.isoformat(),
                closes_at=activity.ends_at.isoformat(),
            )
        if activity.radius_m is not None:
            assert activity.latitude is not None and activity.longitude is not None
            if latitude is None or longitude is None:
                raise LocationRequired()
            away = distance_m(latitude, longitude, activity.latitude, activity.longitude)
            if away > activity.radius_m:
                raise TooFarAway(
                    f"Reported {round(away)} m from the place; check-in accepts up to {activity.radius_m} m",
                    distance_m=round(away),
                    radius_m=activity.radius_m,
                )
        signup = await self._held_signup(activity_id, acting.member_id)
        if signup.checked_in_at is not None:
            raise AlreadyCheckedIn()
        signup.checked_in_at = now
        signup.checked_in_by = acting.acted_by
        await self._repo.session.flush()
        return signup

    async def check_out(self, activity_id: uuid.UUID, token: str, member_id: uuid.UUID | None) -> ActivitySignup:
        acting, activity, now = await self._scanned(activity_id, token, member_id)
        if now > activity.ends_at + CHECK_OUT_GRACE:
            raise OutsideCheckInWindow("Check-out closed", closes_at=(activity.ends_at + CHECK_OUT_GRACE).isoformat())
        signup = await self._held_signup(activity_id, acting.member_id)
        if signup.checked_in_at is None:
            raise NotCheckedIn()
        if signup.checked_out_at is None:
            signup.checked_out_at = now
        await self._repo.session.flush()
        return signup

    async def _scanned(
        self, activity_id: uuid.UUID, token: str, member_id: uuid.UUID | None
    ) -> tuple[Acting, Activity, datetime]:
        """Who acts for whom on an activity whose check-in code they scanned now, while it is unconfirmed."""
        acting = await self._proxies.acting_for(member_id)
        activity = await self._joinable_by(activity_id, acting.member_id)
        now = datetime.now(UTC)
        if activity.cancelled_at is not None:
            raise ActivityCancelled()
        await self._judge_code(activity.id, token, now)
        if activity.confirmed_at is not None:
            raise AlreadyConfirmed()
        return acting, activity, now

    async def _judge_code(self, activity_id: uuid.UUID, token: str, now: datetime) -> None:
        """Refuses a wrong check-in code, counting it as a miss of the caller's account (a right one is
        given back), and refuses every code once the account has missed too often (429)."""
        limits = [(f"check-in-miss:{self._principal.account_id}", CHECK_IN_MISSES_ALLOWED)]
        if self._misses is not None:
            await self._misses.take(limits)
        if not check_in_token_valid(self._secret, activity_id, token, now):
            raise InvalidCheckInToken()
        if self._misses is not None:
            await self._misses.give_back([key for key, _ in limits])

    async def _held_signup(self, activity_id: uuid.UUID, member_id: uuid.UUID) -> ActivitySignup:
        """The member's sign-up, locked, if it stands."""
        signup = await self._repo.signup(activity_id, member_id, for_update=True)
        if signup is None or signup.status != "signed_up":
            raise NotSignedUp()
        return signup

    async def my_signup(self, activity_id: uuid.UUID, for_member: uuid.UUID | None = None) -> ActivitySignup | None:
        """The caller's own sign-up (or that of whom they act for) to an activity they can see, if they
        ever signed up (maybe cancelled)."""
        return await self._repo.signup(activity_id, await self._seen_by(for_member))

    async def my_signups(
        self, limit: int, cursor: tuple[datetime, uuid.UUID] | None, for_member: uuid.UUID | None = None
    ) -> list[tuple[ActivitySignup, Activity]]:
        return await self._repo.member_signups(await self._seen_by(for_member), limit, cursor)

    # -- staff: confirm attendance -----------------------------------------------------------------

    async def confirm(
        self, activity_id: uuid.UUID, attendees: list[Attendee] | None, ledger: LedgerService
    ) -> Confirmation:
        # The activity row lock serialises confirmations: the second sees confirmed_at and stops;
        # the award sources back this up should anything slip past.
        activity = await self.in_reach(activity_id, for_update=True)
        _still_open(activity)
        now = datetime.now(UTC)
        if now < activity.starts_at:
            raise NotStarted()
        signups = {signup.member_id: signup for signup, _ in await self._repo.signups(activity_id)}
        paid = self._attendance(activity, signups, attendees)
        result = await pay_attendance(self._repo, activity, signups, paid, ledger)
        await self._repo.record_attendance(
            [
                {"id": signup.id, "attended": member_id in paid, "hours": paid.get(member_id, Decimal(0))}
                for member_id, signup in signups.items()
            ]
        )
        activity.confirmed_at = now
        activity.confirmed_by = self._principal.account_id
        await self._repo.session.flush()
        return result

    def _attendance(
        self, activity: Activity, signups: dict[uuid.UUID, ActivitySignup], attendees: list[Attendee] | None
    ) -> dict[uuid.UUID, Decimal]:
        """Who is paid for how many hours. Without corrections: everyone who checked in, from check-in
        (not before the start) to check-out, or to the end if they never checked out."""
        if attendees is None:
            paid = {}
            for member_id, signup in signups.items():
                if signup.checked_in_at is None:
                    continue
                start = max(signup.checked_in_at, activity.starts_at)
                end = min(signup.checked_out_at or activity.ends_at, activity.ends_at)
                hours = hours_between(start, end)
                if hours > 0:
                    paid[member_id] = hours
            return paid
        seen: set[uuid.UUID] = set()
        paid = {}
        for index, attendee in enumerate(attendees):
            if attendee.member_id in seen:
                raise InvalidInput(f"attendees.{index}.member_id", "is listed twice")
            seen.add(attendee.member_id)
            if attendee.member_id not in signups:
                raise NotSignedUp(f"Member {attendee.member_id} is not signed up to this activity")
            hours = attendee.hours
            if hours is None:
                hours = hours_between(activity.starts_at, activity.ends_at)
            paid[attendee.member_id] = hours
        return paid
