"""One activity on the member page (/member/activities/<id>): what it is, where and when, how many
places are taken, and the member's own part in it: sign up, cancel, check in by scanning the
organiser's rotating QR code with the camera (the web layer's scanner) or by typing its six-digit
short code, then what happens next (staff confirm attendance, then the points come).

Sign-up and check-in post to the handlers of the activities tab (controllers.py), which come back here
when the form says so (`from=details`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.service import CHECK_IN_OPENS_BEFORE, ActivityService
from points_service.mobile.acting import acted_member
from points_service.mobile.page import MEMBER_PAGE
from points_service.tenancy.periods import TenantClock
from points_service.web import Message, local_time

AnyRequest = Request[Any, Any, Any]


def activity_path(activity_id: uuid.UUID) -> str:
    return f"/member/activities/{activity_id}"


class ActivityScreen(Controller):
    path = "/"

    @get("/activities/{activity_id:uuid}", name="member_page:activity")
    async def activity(
        self, request: AnyRequest, activity_id: uuid.UUID, activities: ActivityService, clock: TenantClock
    ) -> Template:
        # A proxy acting for an elder (代办) sees the elder's part in it and acts for them.
        whose = acted_member(request)
        activity = await activities.visible(activity_id, whose)
        signup = await activities.my_signup(activity_id, whose)
        now = datetime.now(UTC)
        opens = activity.starts_at - CHECK_IN_OPENS_BEFORE
        return MEMBER_PAGE.render(
            request,
            "activity",
            activity=activity,
            signup=signup if signup is not None and signup.status == "signed_up" else None,
            can_sign_up=activity.confirmed_at is None
            and activity.ends_at > now
            and activity.signed_up < activity.capacity,
            can_cancel=activity.starts_at > now,
            check_in=(
                "closed"
                if activity.confirmed_at is not None or now > activity.ends_at
                else "later"
                if now < opens
                else "open"
            ),
            check_in_opens=opens,
            local=local_time(clock),
            tab="activities",
        )

    @post("/activities/{activity_id:uuid}/cancel", name="member_page:cancel_sign_up")
    async def cancel(
        self, request: AnyRequest, activity_id: uuid.UUID, activities: ActivityService, db_session: AsyncSession
    ) -> Redirect:
        async def cancel() -> Message:
            await activities.cancel(activity_id, acted_member(request))
            return Message.done("sign_up_cancelled")

        return await MEMBER_PAGE.act(request, db_session, activity_path(activity_id), cancel)
