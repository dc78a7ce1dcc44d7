"""Pending item providers: what waits for a staff decision, one function per area.

The approvals queue asks every provider in `PROVIDERS` for the oldest pending items of the caller's
subtree after the cursor, merges them by (created_at, id) and pages the result. To put another area's
pending work in the queue, write a provider with the same signature
and add it to `PROVIDERS`; nothing else changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.models import Activity, ActivitySignup
from points_service.claims.models import Claim
from points_service.duty.models import Post, PostClaim
from points_service.org.models import Member, OrgUnit
from points_service.org.reach import Subtree
from points_service.reports.models import ProblemReport
from points_service.rules.models import Rule
from points_service.wishes.models import Wish


@dataclass(frozen=True)
class PendingQuery:
    session: AsyncSession
    tenant_id: uuid.UUID
    reach: Subtree  # the caller's
    after: tuple[datetime, uuid.UUID] | None  # the cursor: items strictly after this (created_at, id)
    limit: int  # return at most this many (the queue asks for one more than a page)
    now: datetime


@dataclass(frozen=True)
class PendingItem:
    kind: str
    id: uuid.UUID
    created_at: datetime  # when it started waiting; the queue is oldest first
    unit_id: uuid.UUID
    unit_name: str
    link: str  # the API path that shows or decides it
    summary: str
    member_id: uuid.UUID | None = None
    # Staff read the queue, and staff see names unmasked (docs/api.md, "Masking").
    member_name: str | None = None


Provider = Callable[[PendingQuery], Awaitable[list[PendingItem]]]


async def pending_claims(query: PendingQuery) -> list[PendingItem]:
    statement = (
        select(Claim, Member.name, OrgUnit.id, OrgUnit.name, Rule.name, Rule.code)
        .join(Member, (Member.tenant_id == Claim.tenant_id) & (Member.id == Claim.member_id))
        .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
        .join(Rule, (Rule.tenant_id == Claim.tenant_id) & (Rule.id == Claim.rule_id))
        .where(Claim.tenant_id == query.tenant_id, Claim.status == "pending")
        .where(query.reach.clause(OrgUnit.path))
    )
    if query.after is not None:
        statement = statement.where(func.row(Claim.created_at, Claim.id) > func.row(*query.after))
    statement = statement.order_by(Claim.created_at, Claim.id).limit(query.limit)
    return [
        PendingItem(
            kind="claim",
            id=claim.id,
            created_at=claim.created_at,
            unit_id=unit_id,
            unit_name=unit_name,
            link=f"/api/v1/claims/{claim.id}",
            summary=f"{rule_name} ({rule_code}) × {claim.quantity.normalize():f}",
            member_id=claim.member_id,
            member_name=member_name,
        )
        for claim, member_name, unit_id, unit_name, rule_name, rule_code in await query.session.execute(statement)
    ]


async def attendance_to_confirm(query: PendingQuery) -> list[PendingItem]:
    """Activities that have ended and whose attendance nobody has confirmed; waiting since their end."""
    signed_up = (
        select(func.count())
        .where(
            ActivitySignup.tenant_id == Activity.tenant_id,
            ActivitySignup.activity_id == Activity.id,
            ActivitySignup.status == "signed_up",
        )
        .scalar_subquery()
    )
    statement = (
        select(Activity, OrgUnit.name, signed_up)
        .join(OrgUnit, (OrgUnit.tenant_id == Activity.tenant_id) & (OrgUnit.id == Activity.org_unit_id))
        .where(Activity.tenant_id == query.tenant_id, Activity.confirmed_at.is_(None), Activity.ends_at < query.now)
        .where(query.reach.clause(OrgUnit.path))
    )
    if query.after is not None:
        statement = statement.where(func.row(Activity.ends_at, Activity.id) > func.row(*query.after))
    statement = statement.order_by(Activity.ends_at, Activity.id).limit(query.limit)
    return [
        PendingItem(
            kind="attendance",
            id=activity.id,
            created_at=activity.ends_at,
            unit_id=activity.org_unit_id,
            unit_name=unit_name,
            link=f"/api/v1/activities/{activity.id}/confirm",
            summary=f"{activity.title}: {count} signed up",
        )
        for activity, unit_name, count in await query.session.execute(statement)
    ]


async def post_claims(query: PendingQuery) -> list[PendingItem]:
    statement = (
        select(PostClaim, Post.name, Member.name, OrgUnit.id, OrgUnit.name)
        .join(Post, (Post.tenant_id == PostClaim.tenant_id) & (Post.id == PostClaim.post_id))
        .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
        .join(Member, (Member.tenant_id == PostClaim.tenant_id) & (Member.id == PostClaim.member_id))
        .where(PostClaim.tenant_id == query.tenant_id, PostClaim.status == "pending")
        .where(query.reach.clause(OrgUnit.path))
    )
    if query.after is not None:
        statement = statement.where(func.row(PostClaim.created_at, PostClaim.id) > func.row(*query.after))
    statement = statement.order_by(PostClaim.created_at, PostClaim.id).limit(query.limit)
    return [
        PendingItem(
            kind="post_claim",
            id=claim.id,
            created_at=claim.created_at,
            unit_id=unit_id,
            unit_name=unit_name,
            link=f"/api/v1/post-claims/{claim.id}/approve",
            summary=f"认领岗位: {post_name}",
            member_id=claim.member_id,
            member_name=member_name,
        )
        for claim, post_name, member_name, unit_id, unit_name in await query.session.execute(statement)
    ]


async def fulfilled_wishes(query: PendingQuery) -> list[PendingItem]:
    """Wishes marked fulfilled, waiting for staff to verify; waiting since they were fulfilled."""
    statement = (
        select(Wish, Member.name, OrgUnit.name)
        .join(OrgUnit, (OrgUnit.tenant_id == Wish.tenant_id) & (OrgUnit.id == Wish.org_unit_id))
        .join(Member, (Member.tenant_id == Wish.tenant_id) & (Member.id == Wish.claimed_by))
        .where(Wish.tenant_id == query.tenant_id, Wish.status == "fulfilled")
        .where(query.reach.clause(OrgUnit.path))
    )
    if query.after is not None:
        statement = statement.where(func.row(Wish.fulfilled_at, Wish.id) > func.row(*query.after))
    statement = statement.order_by(Wish.fulfilled_at, Wish.id).limit(query.limit)
    return [
        PendingItem(
            kind="wish",
            id=wish.id,
            created_at=wish.fulfilled_at,
            unit_id=wish.org_unit_id,
            unit_name=unit_name,
            link=f"/api/v1/wishes/{wish.id}/verify",
            summary=f"微心愿: {wish.title}",
            member_id=wish.claimed_by,
            member_name=member_name,
        )
        for wish, member_name, unit_name in await query.session.execute(statement)
    ]


async def reports_to_accept(query: PendingQuery) -> list[PendingItem]:
    """Reports nobody has accepted yet, handled in the caller's subtree."""
    statement = (
        select(ProblemReport, Member.name, OrgUnit.name)
        .join(OrgUnit, (OrgUnit.tenant_id == ProblemReport.tenant_id) & (OrgUnit.id == ProblemReport.handling_unit_id))
        .join(Member, (Member.tenant_id == ProblemReport.tenant_id) & (Member.id == ProblemReport.member_id))
        .where(ProblemReport.tenant_id == query.tenant_id, ProblemReport.status == "submitted")
        .where(query.reach.clause(OrgUnit.path))
    )
    if query.after is not None:
        statement = statement.where(func.row(ProblemReport.created_at, ProblemReport.id) > func.row(*query.after))
    statement = statement.order_by(ProblemReport.created_at, ProblemReport.id).limit(query.limit)
    return [
        PendingItem(
            kind="report",
            id=found.id,
            created_at=found.created_at,
            unit_id=found.handling_unit_id,
            unit_name=unit_name,
            link=f"/api/v1/reports/{found.id}",
            summary=f"民情上报: {found.place}",
            member_id=found.member_id,
            member_name=member_name,
        )
        for found, member_name, unit_name in await query.session.execute(statement)
    ]


PROVIDERS: dict[str, Provider] = {
    "claim": pending_claims,
    "attendance": attendance_to_confirm,
    "post_claim": post_claims,
    "wish": fulfilled_wishes,
    "report": reports_to_accept,
}
