"""What goes over the wire for activities, claims, proxies and feedback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from points_service.activities.models import Activity, ActivitySignup

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
    # The organiser's feedback token; staff need none.
    token: Token | None = None


def activity_body(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "org_unit_id": activity.org_unit_id,
        "title": activity.title,
        "description": activity.description,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "place": activity.place,
        "latitude": activity.latitude,
        "longitude": activity.longitude,
        "radius_m": activity.radius_m,
        "capacity": activity.capacity,
        "signed_up": activity.signed_up,
        "places_left": activity.capacity - activity.signed_up,
        "confirmed_at": activity.confirmed_at,
    }


def signup_body(signup: ActivitySignup, acted_by: dict[uuid.UUID, dict[str, Any]]) -> dict[str, Any]:
    return {
        "activity_id": signup.activity_id,
        "member_id": signup.member_id,
        "status": signup.status,
        "signed_up_at": signup.created_at,
        "acted_by": acted_by.get(signup.acted_by) if signup.acted_by else None,
        "checked_in_at": signup.checked_in_at,
        "checked_in_by": acted_by.get(signup.checked_in_by) if signup.checked_in_by else None,
        "checked_out_at": signup.checked_out_at,
        "attended": signup.attended,
        "hours": float(signup.hours) if signup.hours is not None else None,
    }
