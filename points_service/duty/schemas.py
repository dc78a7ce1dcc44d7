"""What goes over the wire for posts, post claims and shifts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec

from points_service.activities.schemas import AwareTime, RuleCode
from points_service.duty import models
from points_service.duty.shifts import shift_status
from points_service.proxies.schemas import Actor

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
LocalTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]


class PostCreate(msgspec.Struct):
    org_unit_id: uuid.UUID
    name: Name
    rule_code: RuleCode
    duty: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    schedule: Annotated[str, msgspec.Meta(max_length=300)] = ""


class PostUpdate(msgspec.Struct):
    active: bool


class Decision(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]


class ShiftWindow(msgspec.Struct):
    starts_at: AwareTime
    ends_at: AwareTime


class ShiftVerify(msgspec.Struct):
    checked_in_at: AwareTime
    checked_out_at: AwareTime


class ShiftsCreate(msgspec.Struct):
    """Either `windows` (one-off shifts) or a weekly pattern (what communities run): `weekday` (1 Monday …
    7 Sunday), `start_time`, `end_time` in the tenant's local time, from `first_day` for `weeks` weeks."""

    member_id: uuid.UUID
    windows: Annotated[list[ShiftWindow], msgspec.Meta(min_length=1, max_length=200)] | None = None
    weekday: Annotated[int, msgspec.Meta(ge=1, le=7)] | None = None
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    first_day: date | None = None
    weeks: Annotated[int, msgspec.Meta(ge=1, le=26)] = 4


ShiftStatus = Literal["scheduled", "on_duty", "completed", "missed"]


class Post(msgspec.Struct):
    id: uuid.UUID
    org_unit_id: uuid.UUID
    # Set in lists; null where the answer is about one post.
    org_unit_name: str | None
    name: str
    duty: str
    schedule: str
    rule_code: str
    active: bool
    # How many hold or have claimed it; null where not counted.
    holders: int | None
    created_at: datetime


class PostPage(msgspec.Struct):
    items: list[Post]
    next_cursor: str | None


class PostClaim(msgspec.Struct):
    id: uuid.UUID
    post_id: uuid.UUID
    member_id: uuid.UUID
    status: str
    # Set when someone else claimed for the member (代办).
    acted_by: Actor | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None


class Holder(PostClaim):
    name: str


class HolderList(msgspec.Struct):
    items: list[Holder]


class MyPostClaim(PostClaim):
    post: Post


class MyPostClaimList(msgspec.Struct):
    items: list[MyPostClaim]


class Shift(msgspec.Struct):
    id: uuid.UUID
    post_id: uuid.UUID
    member_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: ShiftStatus
    checked_in_at: datetime | None
    # Set when someone else checked in or out for the member (代办), where the viewer may see who.
    checked_in_by: Actor | None
    checked_out_at: datetime | None
    checked_out_by: Actor | None
    # The verified time on duty, once checked out.
    hours: float | None
    transaction_id: uuid.UUID | None
    # Why a completed shift earned nothing.
    unpaid_reason: str | None


class ShiftsScheduled(msgspec.Struct):
    created: int
    items: list[Shift]


class NamedShift(Shift):
    name: str


class NamedShiftList(msgspec.Struct):
    items: list[NamedShift]


class MyShift(Shift):
    post_name: str


class MyShiftList(msgspec.Struct):
    items: list[MyShift]


class ShiftPaid(Shift):
    points: int
    # The member's available balance after the payment; null when nothing was paid.
    balance: int | None


class MemberAttendance(msgspec.Struct):
    member_id: uuid.UUID
    name: str
    due: int
    attended: int
    # attended / due, four decimals; null when nothing was due.
    rate: float | None
    hours: float


class AttendanceList(msgspec.Struct):
    items: list[MemberAttendance]


def post_answer(post: models.Post, rule_code: str, unit_name: str | None = None, holders: int | None = None) -> Post:
    return Post(
        id=post.id,
        org_unit_id=post.org_unit_id,
        org_unit_name=unit_name,
        name=post.name,
        duty=post.duty,
        schedule=post.schedule,
        rule_code=rule_code,
        active=post.active,
        holders=holders,
        created_at=post.created_at,
    )


def post_claim_fields(claim: models.PostClaim, shown: dict[uuid.UUID, Actor]) -> dict[str, Any]:
    """A post claim's fields, for `PostClaim` and the answers that extend it."""
    return {
        "id": claim.id,
        "post_id": claim.post_id,
        "member_id": claim.member_id,
        "status": claim.status,
        "acted_by": shown.get(claim.acted_by) if claim.acted_by else None,
        "reason": claim.reason,
        "created_at": claim.created_at,
        "decided_at": claim.decided_at,
    }


def post_claim_answer(claim: models.PostClaim, shown: dict[uuid.UUID, Actor]) -> PostClaim:
    return PostClaim(**post_claim_fields(claim, shown))


def shift_fields(shift: models.Shift, shown: dict[uuid.UUID, Actor] | None = None) -> dict[str, Any]:
    """A shift's fields, for `Shift` and the answers that extend it. `shown`: labels of the logins that
    checked in or out for the member (代办), where the viewer may see them."""
    shown = shown or {}
    return {
        "id": shift.id,
        "post_id": shift.post_id,
        "member_id": shift.member_id,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "status": shift_status(shift, datetime.now(UTC)),
        "checked_in_at": shift.checked_in_at,
        "checked_in_by": shown.get(shift.checked_in_by) if shift.checked_in_by else None,
        "checked_out_at": shift.checked_out_at,
        "checked_out_by": shown.get(shift.checked_out_by) if shift.checked_out_by else None,
        "hours": float(shift.hours) if shift.hours is not None else None,
        "transaction_id": shift.transaction_id,
        "unpaid_reason": shift.unpaid_reason,
    }


def shift_answer(shift: models.Shift, shown: dict[uuid.UUID, Actor] | None = None) -> Shift:
    return Shift(**shift_fields(shift, shown))
