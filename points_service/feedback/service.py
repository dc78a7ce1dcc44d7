"""Two-way feedback (双向反馈): residents (anonymous, through the rating link of the sign-up of the member
who served them), members who took part and staff rate a member's service on an activity, 1-5 with a
comment; the average feeds evaluations, and a member nobody rated has no average (not a 0)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.models import ActivitySignup
from points_service.activities.tokens import feedback_link_signup
from points_service.auth.principal import Principal
from points_service.errors import DomainError, NotFound
from points_service.feedback.models import Feedback
from points_service.org.service import OrgService


class InvalidFeedbackToken(DomainError):
    status_code = 403
    code = "invalid_feedback_token"
    title = "This feedback link is not valid for this activity"


class SelfRating(DomainError):
    status_code = 403
    code = "self_rating"
    title = "Nobody rates their own service"


class NotAParticipant(DomainError):
    status_code = 403
    code = "not_a_participant"
    title = "Only someone who took part in this activity rates its members"


class AlreadyRated(DomainError):
    code = "already_rated"
    title = "This rating was already given: a link rates once, and a member rates a member once per activity"


@dataclass(frozen=True)
class Average:
    member_id: uuid.UUID
    count: int
    average: float | None


@dataclass(frozen=True)
class Rater:
    tenant_id: uuid.UUID
    kind: str  # resident (through one sign-up's link), member (took part), staff
    given_by: uuid.UUID | None
    link_id: uuid.UUID | None


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
        """A rating from someone who took part: staff (members of their subtree), a resident through the
        link of the sign-up of the member who served them (once), or a member who signed up too (once per
        member rated). Nobody rates themself."""
        rater = await self._rater(principal, org, activity_id, member_id, token)
        served = await self.session.scalar(
            select(ActivitySignup.id).where(
                ActivitySignup.tenant_id == rater.tenant_id,
                ActivitySignup.activity_id == activity_id,
                ActivitySignup.member_id == member_id,
                ActivitySignup.status == "signed_up",
            )
        )
        if served is None:
            raise NotFound(f"Member {member_id} did not serve on this activity")
        feedback_id = uuid.uuid4()
        # A second rating through the same link, or by the same member, meets a unique index; racing
        # requests cannot both get in.
        inserted = await self.session.scalar(
            insert(Feedback)
            .values(
                id=feedback_id,
                tenant_id=rater.tenant_id,
                member_id=member_id,
                subject_kind="activity",
                subject_id=activity_id,
                rating=rating,
                comment=comment,
                given_by=rater.given_by,
                giver_kind=rater.kind,
                link_id=rater.link_id,
            )
            .on_conflict_do_nothing()
            .returning(Feedback.id)
        )
        if inserted is None:
            raise AlreadyRated()
        feedback = await self.session.get(Feedback, (rater.tenant_id, feedback_id))
        assert feedback is not None
        return feedback

    async def _rater(
        self,
        principal: Principal | None,
        org: OrgService | None,
        activity_id: uuid.UUID,
        member_id: uuid.UUID,
        token: str | None,
    ) -> Rater:
        if principal is not None and principal.role in ("staff", "admin"):
            assert org is not None
            await org.member_in_reach(member_id)
            return Rater(principal.tenant_id, "staff", principal.account_id, None)
        signed_in = principal if principal is not None and principal.member_id is not None else None
        if signed_in is not None and signed_in.member_id == member_id:
            raise SelfRating()
        if token is not None:
            # The token is the only thing that reveals the tenant of an anonymous rater.
            signup_id = feedback_link_signup(self._secret, activity_id, token)
            link = (
                await self.session.execute(
                    select(ActivitySignup.tenant_id, ActivitySignup.member_id).where(
                        ActivitySignup.id == signup_id, ActivitySignup.activity_id == activity_id
                    )
                )
            ).first()
            if signup_id is None or link is None or link.member_id != member_id:
                raise InvalidFeedbackToken()
            return Rater(link.tenant_id, "resident", None, signup_id)
        if signed_in is None:
            raise InvalidFeedbackToken()
        took_part = await self.session.scalar(
            select(ActivitySignup.id).where(
                ActivitySignup.tenant_id == signed_in.tenant_id,
                ActivitySignup.activity_id == activity_id,
                ActivitySignup.member_id == signed_in.member_id,
                ActivitySignup.status == "signed_up",
            )
        )
        if took_part is None:
            raise NotAParticipant()
        return Rater(signed_in.tenant_id, "member", signed_in.account_id, None)

    async def average(self, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Average:
        count, average = (
            await self.session.execute(
                select(func.count(), func.avg(Feedback.rating)).where(
                    Feedback.tenant_id == tenant_id, Feedback.member_id == member_id
                )
            )
        ).one()
        return Average(member_id, int(count), round(float(average), 2) if average is not None else None)
