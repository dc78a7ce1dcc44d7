"""Pending item providers: what waits for a staff decision, one declared `PendingSource` per area.

The approvals queue asks every provider in `PROVIDERS` for the oldest pending items of the caller's
subtree after the cursor, merges them by (created_at, id) and pages the result. To put another area's
pending work in the queue, declare its source (which rows wait, since when, how each reads) and add it
to `SOURCES`, or, for another package, return it from its plugin's `pending_sources`; nothing else
changes. A provider is any callable with `Provider`'s signature (points_service/approvals.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, null, select

from points_service.activities.models import Activity, ActivitySignup
from points_service.approvals import PendingItem, PendingQuery, PendingSource, Provider
from points_service.claims.models import Claim
from points_service.duty.models import Post, PostClaim
from points_service.org.models import Member, OrgUnit
from points_service.reports.models import ProblemReport
from points_service.rules.models import Rule
from points_service.wishes.models import Wish


def _pending_claims(query: PendingQuery) -> Select[Any]:
    return (
        select(Claim, OrgUnit.id, OrgUnit.name, Claim.member_id, Member.name, Rule.name, Rule.code)
        .join(Member, (Member.tenant_id == Claim.tenant_id) & (Member.id == Claim.member_id))
        .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
        .join(Rule, (Rule.tenant_id == Claim.tenant_id) & (Rule.id == Claim.rule_id))
        .where(Claim.tenant_id == query.tenant_id, Claim.status == "pending")
    )


def _attendance_to_confirm(query: PendingQuery) -> Select[Any]:
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
    return (
        select(Activity, OrgUnit.id, OrgUnit.name, null(), null(), signed_up)
        .join(OrgUnit, (OrgUnit.tenant_id == Activity.tenant_id) & (OrgUnit.id == Activity.org_unit_id))
        .where(
            Activity.tenant_id == query.tenant_id,
            Activity.confirmed_at.is_(None),
            Activity.cancelled_at.is_(None),
            Activity.ends_at < query.now,
        )
    )


def _post_claims(query: PendingQuery) -> Select[Any]:
    return (
        select(PostClaim, OrgUnit.id, OrgUnit.name, PostClaim.member_id, Member.name, Post.name)
        .join(Post, (Post.tenant_id == PostClaim.tenant_id) & (Post.id == PostClaim.post_id))
        .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
        .join(Member, (Member.tenant_id == PostClaim.tenant_id) & (Member.id == PostClaim.member_id))
        .where(PostClaim.tenant_id == query.tenant_id, PostClaim.status == "pending")
    )


def _fulfilled_wishes(query: PendingQuery) -> Select[Any]:
    """Wishes marked fulfilled, waiting for staff to verify; waiting since they were fulfilled."""
    return (
        select(Wish, OrgUnit.id, OrgUnit.name, Wish.claimed_by, Member.name)
        .join(OrgUnit, (OrgUnit.tenant_id == Wish.tenant_id) & (OrgUnit.id == Wish.org_unit_id))
        .join(Member, (Member.tenant_id == Wish.tenant_id) & (Member.id == Wish.claimed_by))
        .where(Wish.tenant_id == query.tenant_id, Wish.status == "fulfilled")
    )


def _reports_to_accept(query: PendingQuery) -> Select[Any]:
    """Reports nobody has accepted yet, handled in the caller's subtree."""
    return (
        select(ProblemReport, OrgUnit.id, OrgUnit.name, ProblemReport.member_id, Member.name)
        .join(OrgUnit, (OrgUnit.tenant_id == ProblemReport.tenant_id) & (OrgUnit.id == ProblemReport.handling_unit_id))
        .join(Member, (Member.tenant_id == ProblemReport.tenant_id) & (Member.id == ProblemReport.member_id))
        .where(ProblemReport.tenant_id == query.tenant_id, ProblemReport.status == "submitted")
    )


SOURCES = (
    PendingSource(
        "claim",
        _pending_claims,
        Claim.created_at,
        "/api/v1/claims/{id}",
        # Read by people (the console shows it): the rule by its name, never its code.
        lambda claim, rule_name, _rule_code: f"积分申请: {rule_name} × {claim.quantity.normalize():f}",
    ),
    PendingSource(
        "attendance",
        _attendance_to_confirm,
        Activity.ends_at,
        "/api/v1/activities/{id}/confirm",
        lambda activity, count: f"活动: {activity.title}（{count} 人报名待确认）",
    ),
    PendingSource(
        "post_claim",
        _post_claims,
        PostClaim.created_at,
        "/api/v1/post-claims/{id}/approve",
        lambda _claim, post_name: f"认领岗位: {post_name}",
    ),
    PendingSource(
        "wish", _fulfilled_wishes, Wish.fulfilled_at, "/api/v1/wishes/{id}/verify", lambda wish: f"微心愿: {wish.title}"
    ),
    PendingSource(
        "report",
        _reports_to_accept,
        ProblemReport.created_at,
        "/api/v1/reports/{id}",
        lambda report: f"民情上报: {report.place}",
    ),
)
PROVIDERS: dict[str, Provider] = {source.kind: source for source in SOURCES}

__all__ = ["PROVIDERS", "SOURCES", "PendingItem", "PendingQuery", "PendingSource", "Provider"]
