"""Ratings of a member's service on an activity over HTTP: given by staff or a resident holding the
activity's feedback token, read by the member and by staff."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post

from points_service.activities.schemas import FeedbackAverage, FeedbackCreate, FeedbackGiven
from points_service.auth.guards import require_member, require_staff
from points_service.auth.principal import Principal
from points_service.feedback.service import FeedbackService
from points_service.openapi import REFUSALS
from points_service.org.service import OrgService


class ActivityFeedbackController(Controller):
    path = "/activities"
    tags = ["activities"]

    @post(
        "/{activity_id:uuid}/feedback",
        security=[],
        summary="Rate a member's service on this activity: staff, a member who took part (once per member), "
        "or a resident through one sign-up's rating link (once)",
        # 403 for a wrong link, a self-rating or a member who did not take part; 404 for a member who did
        # not serve, or is outside staff reach; 409 `already_rated`.
        opt={REFUSALS: (403, 404, 409)},
    )
    async def give_feedback(
        self, activity_id: uuid.UUID, data: FeedbackCreate, request: Request, feedback: FeedbackService
    ) -> FeedbackGiven:
        principal = request.scope.get("user")
        signed_in = principal if isinstance(principal, Principal) else None
        staff = signed_in is not None and signed_in.role in ("staff", "admin")
        org = OrgService(feedback.session, signed_in) if staff and signed_in is not None else None
        given = await feedback.rate_activity(
            signed_in, org, activity_id, data.member_id, data.rating, data.comment, data.token
        )
        return FeedbackGiven(given.id, given.member_id, activity_id, given.rating)


class MyFeedbackController(Controller):
    path = "/me"
    tags = ["me"]
    guards = [require_member]

    @get("/feedback", summary="How residents and staff rated my service")
    async def my_feedback(self, feedback: FeedbackService, principal: Principal) -> FeedbackAverage:
        assert principal.member_id is not None
        average = await feedback.average(principal.tenant_id, principal.member_id)
        return FeedbackAverage(average.member_id, average.count, average.average)


class FeedbackController(Controller):
    path = "/feedback"
    tags = ["feedback"]
    guards = [require_staff]

    @get("/members/{member_id:uuid}", summary="A member's average rating (1-5) and how many ratings")
    async def member_average(self, member_id: uuid.UUID, feedback: FeedbackService, org: OrgService) -> FeedbackAverage:
        member = await org.member_in_reach(member_id)
        average = await feedback.average(member.tenant_id, member_id)
        return FeedbackAverage(average.member_id, average.count, average.average)
