"""What goes over the wire for activities, claims, proxies and feedback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from points_service.activities import models
from points_service.activities.confirmation import Confirmation
from points_service.claims import models as claim_models
from points_service.proxies.schemas import Actor

AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
RuleCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Note = Annotated[str, msgspec.Meta(max_length=500)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Hours = Annotated[float, msgspec.Meta(gt=0, le=1000)]
Quantity = Annotated[float, msgspec.Meta(gt=0, le=1000)]


class ActivityCreate(msgspec.Struct):
    org_unit_id: uuid.UUID
    title: Title
    starts_at: AwareTime
    ends_at: AwareTime
    capacity: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    rule_code: RuleCode
    description: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    place: Annotated[str, msgspec.Meta(max_length=300)] = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    radius_m: Annotated[int, msgspec.Meta(ge=10, le=100_000)] | None = None
    no_show_rule_code: RuleCode | None = None


class ForMember(msgspec.Struct):
    """Whom the act is for: absent for oneself; staff and appointed proxies (代办) name the member."""

    member_id: uuid.UUID | None = None


class CheckIn(msgspec.Struct):
    token: Token
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    member_id: uuid.UUID | None = None


class CheckOut(msgspec.Struct):
    token: Token
    member_id: uuid.UUID | None = None


class AttendeeIn(msgspec.Struct):
    member_id: uuid.UUID
    # Absent: the activity's scheduled length.
    hours: Hours | None = None


class Confirm(msgspec.Struct):
    """Absent `attendees`: pay everyone who checked in, for the time they were there."""

    attendees: Annotated[list[AttendeeIn], msgspec.Meta(max_length=1000)] | None = None


class ClaimCreate(msgspec.Struct):
    rule_code: RuleCode
    quantity: Quantity = 1
    note: Note | None = None
    member_id: uuid.UUID | None = None


class ClaimReject(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class ProxyCreate(msgspec.Struct):
    proxy_member_id: uuid.UUID
    member_id: uuid.UUID | None = None
    org_unit_id: uuid.UUID | None = None


class FeedbackCreate(msgspec.Struct):
    member_id: uuid.UUID
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    # A resident's rating link token (one per sign-up); staff and members who took part sign in instead.
    token: Token | None = None


class Activity(msgspec.Struct):
    id: uuid.UUID
    org_unit_id: uuid.UUID
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    place: str
    latitude: float | None
    longitude: float | None
    # Check-in must be this close to the place (metres); null: anywhere.
    radius_m: int | None
    capacity: int
    signed_up: int
    places_left: int
    confirmed_at: datetime | None
    # Set when staff cancelled the activity, with the reason its members are shown.
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


class ActivityPage(msgspec.Struct):
    items: list[Activity]
    next_cursor: str | None


class Signup(msgspec.Struct):
    activity_id: uuid.UUID
    member_id: uuid.UUID
    status: str
    signed_up_at: datetime
    # Set when someone else signed the member up (代办).
    acted_by: Actor | None
    checked_in_at: datetime | None
    checked_in_by: Actor | None
    checked_out_at: datetime | None
    # Null until the organiser confirms attendance.
    attended: bool | None
    hours: float | None


class NamedSignup(Signup):
    """A sign-up as staff see it: with the member's name."""

    name: str


class SignupList(msgspec.Struct):
    items: list[NamedSignup]
    # Always null: an activity's sign-ups come in one page.
    next_cursor: str | None


class MySignup(Signup):
    """A member's own sign-up, with its activity; `id` is the sign-up's."""

    activity: Activity
    id: uuid.UUID


class MySignupPage(msgspec.Struct):
    items: list[MySignup]
    next_cursor: str | None


class CheckInCode(msgspec.Struct):
    activity_id: uuid.UUID
    token: str
    # What the QR code holds: members may scan it or type the token.
    qr_text: str
    expires_at: datetime
    rotates_every_seconds: int
    # Six digits for members who cannot scan, accepted for the same window as the token.
    short_code: str


class FeedbackLink(msgspec.Struct):
    """The rating link of one sign-up: for the resident that member served; it rates that member once."""

    signup_id: uuid.UUID
    member_id: uuid.UUID
    token: str


class FeedbackToken(msgspec.Struct):
    activity_id: uuid.UUID
    links: list[FeedbackLink]


class AttendedMember(msgspec.Struct):
    member_id: uuid.UUID
    hours: float
    # Null when the attendance earned nothing (a rule paying 0 after rounding, say).
    transaction_id: uuid.UUID | None


class PenalisedMember(msgspec.Struct):
    member_id: uuid.UUID
    transaction_id: uuid.UUID


class AttendanceConfirmed(msgspec.Struct):
    id: uuid.UUID
    confirmed_at: datetime | None
    attended: list[AttendedMember]
    points_total: int
    no_shows: list[uuid.UUID]
    penalised: list[PenalisedMember]
    # No-shows the penalty was not written for (it would have taken their balance below zero).
    penalty_skipped: list[uuid.UUID]


class Claim(msgspec.Struct):
    id: uuid.UUID
    member_id: uuid.UUID
    rule_code: str
    quantity: float
    note: str | None
    status: str
    created_at: datetime
    # Set when someone else filed it for the member (代办).
    acted_by: Actor | None
    reason: str | None
    decided_at: datetime | None
    transaction_id: uuid.UUID | None


class ClaimPage(msgspec.Struct):
    items: list[Claim]
    next_cursor: str | None


class ClaimApproved(msgspec.Struct):
    id: uuid.UUID
    status: str
    transaction_id: uuid.UUID
    member_id: uuid.UUID
    points: int
    balance: int


class ClaimRejected(msgspec.Struct):
    id: uuid.UUID
    status: str
    reason: str | None


class FeedbackGiven(msgspec.Struct):
    id: uuid.UUID
    member_id: uuid.UUID
    activity_id: uuid.UUID
    rating: int


class FeedbackAverage(msgspec.Struct):
    member_id: uuid.UUID
    count: int
    # 1-5, two decimals; null without any rating.
    average: float | None


def activity_answer(activity: models.Activity) -> Activity:
    return Activity(
        id=activity.id,
        org_unit_id=activity.org_unit_id,
        title=activity.title,
        description=activity.description,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        place=activity.place,
        latitude=activity.latitude,
        longitude=activity.longitude,
        radius_m=activity.radius_m,
        capacity=activity.capacity,
        signed_up=activity.signed_up,
        places_left=activity.capacity - activity.signed_up,
        confirmed_at=activity.confirmed_at,
        cancelled_at=activity.cancelled_at,
        cancel_reason=activity.cancel_reason,
    )


def signup_fields(signup: models.ActivitySignup, shown: dict[uuid.UUID, Actor]) -> dict[str, Any]:
    """A sign-up's fields, for `Signup` and the answers that extend it."""
    return {
        "activity_id": signup.activity_id,
        "member_id": signup.member_id,
        "status": signup.status,
        "signed_up_at": signup.created_at,
        "acted_by": shown.get(signup.acted_by) if signup.acted_by else None,
        "checked_in_at": signup.checked_in_at,
        "checked_in_by": shown.get(signup.checked_in_by) if signup.checked_in_by else None,
        "checked_out_at": signup.checked_out_at,
        "attended": signup.attended,
        "hours": float(signup.hours) if signup.hours is not None else None,
    }


def signup_answer(signup: models.ActivitySignup, shown: dict[uuid.UUID, Actor]) -> Signup:
    return Signup(**signup_fields(signup, shown))


def confirmation_answer(result: Confirmation) -> AttendanceConfirmed:
    return AttendanceConfirmed(
        id=result.activity.id,
        confirmed_at=result.activity.confirmed_at,
        attended=[
            AttendedMember(member_id, float(hours), transaction_id)
            for member_id, hours, transaction_id in result.attended
        ],
        points_total=result.points_total,
        no_shows=result.no_shows,
        penalised=[PenalisedMember(member_id, transaction_id) for member_id, transaction_id in result.penalised],
        penalty_skipped=result.penalty_skipped,
    )


def claim_answer(claim: claim_models.Claim, rule_code: str, shown: dict[uuid.UUID, Actor]) -> Claim:
    return Claim(
        id=claim.id,
        member_id=claim.member_id,
        rule_code=rule_code,
        quantity=float(claim.quantity),
        note=claim.note,
        status=claim.status,
        created_at=claim.created_at,
        acted_by=shown.get(claim.filed_by) if claim.filed_by in shown else None,
        reason=claim.reason,
        decided_at=claim.decided_at,
        transaction_id=claim.transaction_id,
    )
