"""Two-way feedback (双向反馈): residents (anonymous, holding the organiser's feedback token) and staff
rate a member's service on an activity, 1-5 with a comment; the average feeds evaluations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.models import Activity, ActivitySignup
from points_service.activities.tokens import feedback_token_valid
from points_service.auth.principal import Principal
from points_service.errors import DomainError, NotFound
from points_service.feedback.models import Feedback
from points_service.org.service import OrgService


class InvalidFeedbackToken(DomainError):
    status_code = 403
    code = "invalid_feedback_token"
    title = "This feedback link is not valid for this activity"


@dataclass(frozen=True)
class Average:
    member_id: uuid.UUID
    count: int
    average: float | None


class FeedbackService:
    def __init__(self, session: AsyncSession, secret: str) -> None:
        self.session = session
        self._secret = secret

    async def rate_activity(
        self,
        principal: Principal | None,
        org: OrgService | None,
        activity_id: uuid.UUID,
        member_id: uuid.UUID,
        rating: int,
        comment: str | None,
        token: str | None,
    ) -> Feedback:
        """Staff rate members of their subtree; anyone else needs the activity's feedback token, and
        the token is the only thing that reveals the tenant of an anonymous rater."""
        if principal is not None and principal.role in ("staff", "admin"):
            assert org is not None
            await org.member_in_reach(member_id)
            tenant, given_by = principal.tenant_id, principal.account_id
        else:
            tenant_of_activity = await self.session.scalar(select(Activity.tenant_id).where(Activity.id == activity_id))
            if (
                tenant_of_activity is None
                or token is None
                or not feedback_token_valid(self._secret, activity_id, token)
            ):
                raise InvalidFeedbackToken()
            tenant, given_by = tenant_of_activity, None
        served = await self.session.scalar(
            select(ActivitySignup.id).where(
                ActivitySignup.tenant_id == tenant,
                ActivitySignup.activity_id == activity_id,
                ActivitySignup.member_id == member_id,
                ActivitySignup.status == "signed_up",
            )
        )
        if served is None:
            raise NotFound(f"Member {member_id} did not serve on this activity")
        feedback = Feedback(
            id=uuid.uuid4(),
            tenant_id=tenant,
            member_id=member_id,
            subject_kind="activity",
            subject_id=activity_id,
            rating=rating,
            comment=comment,
            given_by=given_by,
        )
        self.session.add(feedback)
        await self.session.flush()
        return feedback

    async def average(self, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Average:
        count, average = (
            await self.session.execute(
                select(func.count(), func.avg(Feedback.rating)).where(
                    Feedback.tenant_id == tenant_id, Feedback.member_id == member_id
                )
            )
        ).one()
        return Average(member_id, int(count), round(float(average), 2) if average is not None else None)
