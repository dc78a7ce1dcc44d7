"""Activities, claims and proxies over HTTP: parse, authorise by role, one service call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from litestar import Controller, Request, Response, delete, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.confirmation import Attendee
from points_service.activities.models import ActivitySignup
from points_service.activities.schemas import (
    Activity,
    ActivityCreate,
    ActivityPage,
    AttendanceConfirmed,
    CheckIn,
    CheckInCode,
    CheckOut,
    Claim,
    ClaimApproved,
    ClaimCreate,
    ClaimPage,
    ClaimReject,
    ClaimRejected,
    Confirm,
    FeedbackLink,
    FeedbackToken,
    ForMember,
    MySignup,
    MySignupPage,
    NamedSignup,
    ProxyCreate,
    Signup,
    SignupList,
    activity_answer,
    claim_answer,
    confirmation_answer,
    signup_answer,
    signup_fields,
)
from points_service.activities.service import ActivityService
from points_service.activities.tokens import (
    WINDOW_SECONDS,
    check_in_token,
    feedback_link_token,
    qr_text,
    short_check_in_code,
    token_expires_at,
)
from points_service.auth.guards import member_or_staff, require_member, require_staff
from points_service.auth.principal import Principal
from points_service.claims.service import ClaimService
from points_service.idempotency.service import IdempotencyKey, IdempotentWrites
from points_service.ledger.service import LedgerService
from points_service.openapi import REFUSALS
from points_service.pagination import Cursor, Limit, decode_cursor, next_page
from points_service.proxies.schemas import Proxy, ProxyPage, proxy_answer
from points_service.proxies.service import ProxyService, actors
from points_service.qr import qr_svg


def _quantity(value: float) -> Decimal:
    return Decimal(str(value))


def _is_staff(principal: Principal) -> bool:
    return principal.role in ("staff", "admin")


async def _as_seen(signup: ActivitySignup, principal: Principal, db_session: AsyncSession) -> Signup:
    """A sign-up with who acted for its member and who checked them in, as the caller may see them."""
    shown = await actors(db_session, principal.tenant_id, [signup.acted_by, signup.checked_in_by], _is_staff(principal))
    return signup_answer(signup, shown)


class ActivityController(Controller):
    path = "/activities"
    tags = ["activities"]

    @post("/", guards=[require_staff], summary="Create an activity in an org unit of the caller's subtree")
    async def create(self, data: ActivityCreate, activities: ActivityService) -> Activity:
        fields = {name: getattr(data, name) for name in data.__struct_fields__}
        fields["title"] = data.title.strip()
        return activity_answer(await activities.create(fields))

    @get(
        "/",
        guards=[member_or_staff],
        summary="Activities a member may join (their unit, its ancestors and its subtree), or a staff "
        "subtree's; upcoming and running unless include_past",
    )
    async def list_activities(
        self, activities: ActivityService, include_past: bool = False, limit: Limit = 50, cursor: Cursor = None
    ) -> ActivityPage:
        rows = await activities.listed(include_past, limit, decode_cursor(cursor))
        items = [activity_answer(activity) for activity in rows]
        return ActivityPage(*next_page(items, limit, key=lambda item: (item.starts_at, item.id)))

    @get("/{activity_id:uuid}", guards=[member_or_staff], summary="One activity")
    async def read(self, activity_id: uuid.UUID, activities: ActivityService) -> Activity:
        return activity_answer(await activities.visible(activity_id))

    @get("/{activity_id:uuid}/signups", guards=[require_staff], summary="Who signed up, checked in and came")
    async def signups(
        self, activity_id: uuid.UUID, activities: ActivityService, principal: Principal, db_session: AsyncSession
    ) -> SignupList:
        rows = await activities.signups(activity_id)
        shown = await actors(
            db_session,
            principal.tenant_id,
            [a for s, _ in rows for a in (s.acted_by, s.checked_in_by)],
            viewer_is_staff=True,
        )
        return SignupList([NamedSignup(**signup_fields(s, shown), name=name) for s, name in rows], None)

    @post("/{activity_id:uuid}/signups", guards=[member_or_staff], summary="Sign up (oneself, or a member as proxy)")
    async def sign_up(
        self,
        activity_id: uuid.UUID,
        activities: ActivityService,
        principal: Principal,
        db_session: AsyncSession,
        data: ForMember | None = None,
    ) -> Signup:
        signup = await activities.sign_up(activity_id, data.member_id if data else None)
        return await _as_seen(signup, principal, db_session)

    @post(
        "/{activity_id:uuid}/signups/cancel",
        status_code=200,
        guards=[member_or_staff],
        summary="Cancel a sign-up before the start; the place is given back",
    )
    async def cancel(
        self,
        activity_id: uuid.UUID,
        activities: ActivityService,
        principal: Principal,
        db_session: AsyncSession,
        data: ForMember | None = None,
    ) -> Signup:
        signup = await activities.cancel(activity_id, data.member_id if data else None)
        return await _as_seen(signup, principal, db_session)

    @get(
        "/{activity_id:uuid}/check-in-code",
        guards=[require_staff],
        summary=f"The organiser's current check-in token (rotates every {WINDOW_SECONDS} s)",
    )
    async def check_in_code(self, activity_id: uuid.UUID, activities: ActivityService, request: Request) -> CheckInCode:
        activity = await activities.in_reach(activity_id)
        now = datetime.now(UTC)
        secret = request.app.state.settings.jwt_secret
        token = check_in_token(secret, activity.id, now)
        return CheckInCode(
            activity.id,
            token,
            qr_text(activity.id, token),
            token_expires_at(now),
            WINDOW_SECONDS,
            short_check_in_code(secret, activity.id, now),
        )

    @get(
        "/{activity_id:uuid}/check-in-code.svg",
        guards=[require_staff],
        media_type="image/svg+xml",
        summary="The current check-in token as a QR code for members to scan",
    )
    async def check_in_qr(self, activity_id: uuid.UUID, activities: ActivityService, request: Request) -> str:
        activity = await activities.in_reach(activity_id)
        token = check_in_token(request.app.state.settings.jwt_secret, activity.id, datetime.now(UTC))
        return qr_svg(qr_text(activity.id, token))

    @post(
        "/{activity_id:uuid}/check-in",
        status_code=200,
        guards=[member_or_staff],
        summary="Check in with the organiser's token or short code, inside the window (and near the place, if it "
        "has one)",
        opt={REFUSALS: (404, 409, 429)},
    )
    async def check_in(
        self,
        activity_id: uuid.UUID,
        data: CheckIn,
        activities: ActivityService,
        principal: Principal,
        db_session: AsyncSession,
    ) -> Signup:
        signup = await activities.check_in(activity_id, data.token, data.latitude, data.longitude, data.member_id)
        return await _as_seen(signup, principal, db_session)

    @post(
        "/{activity_id:uuid}/check-out",
        status_code=200,
        guards=[member_or_staff],
        summary="Check out",
        opt={REFUSALS: (404, 409, 429)},
    )
    async def check_out(
        self,
        activity_id: uuid.UUID,
        data: CheckOut,
        activities: ActivityService,
        principal: Principal,
        db_session: AsyncSession,
    ) -> Signup:
        signup = await activities.check_out(activity_id, data.token, data.member_id)
        return await _as_seen(signup, principal, db_session)

    @post(
        "/{activity_id:uuid}/confirm",
        status_code=200,
        guards=[require_staff],
        summary="Confirm attendance (optionally corrected) and pay everyone in one all-or-nothing award (idem)",
    )
    async def confirm(
        self,
        activity_id: uuid.UUID,
        request: Request,
        activities: ActivityService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        data: Confirm | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AttendanceConfirmed]:
        body = data or Confirm()
        attendees = (
            [Attendee(a.member_id, _quantity(a.hours) if a.hours is not None else None) for a in body.attendees]
            if body.attendees is not None
            else None
        )

        async def confirm_attendance() -> AttendanceConfirmed:
            return confirmation_answer(await activities.confirm(activity_id, attendees, ledger))

        return await idempotent.run(idempotency_key, request.url.path, body, confirm_attendance, status=200)

    @get(
        "/{activity_id:uuid}/feedback-token",
        guards=[require_staff],
        summary="One rating link per sign-up, for the resident each member served: each rates once",
    )
    async def feedback_token(
        self, activity_id: uuid.UUID, activities: ActivityService, request: Request
    ) -> FeedbackToken:
        activity = await activities.in_reach(activity_id)
        secret = request.app.state.settings.jwt_secret
        links = [
            FeedbackLink(signup.id, signup.member_id, feedback_link_token(secret, activity.id, signup.id))
            for signup, _ in await activities.signups(activity.id)
            if signup.status == "signed_up"
        ]
        return FeedbackToken(activity.id, links)


class MyEarningController(Controller):
    path = "/me"
    tags = ["me"]
    guards = [require_member]

    @get("/activities", summary="My sign-ups, newest first; `acted_by` names whoever acted for me")
    async def my_activities(
        self,
        activities: ActivityService,
        principal: Principal,
        db_session: AsyncSession,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> MySignupPage:
        rows = await activities.my_signups(limit, decode_cursor(cursor))
        shown = await actors(
            db_session, principal.tenant_id, [a for s, _ in rows for a in (s.acted_by, s.checked_in_by)], False
        )
        items = [
            MySignup(**signup_fields(signup, shown), activity=activity_answer(activity), id=signup.id)
            for signup, activity in rows
        ]
        return MySignupPage(*next_page(items, limit, key=lambda item: (item.signed_up_at, item.id)))

    @get("/claims", summary="My claims, newest first; `acted_by` names whoever filed for me")
    async def my_claims(
        self,
        claims: ClaimService,
        principal: Principal,
        db_session: AsyncSession,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> ClaimPage:
        rows = await claims.mine(limit, decode_cursor(cursor))
        own = principal.account_id
        shown = await actors(db_session, principal.tenant_id, [c.filed_by for c, _ in rows if c.filed_by != own], False)
        items = [claim_answer(claim, code, shown) for claim, code in rows]
        return ClaimPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))


class ClaimController(Controller):
    path = "/claims"
    tags = ["claims"]

    @post(
        "/", guards=[member_or_staff], summary="File a claim under a rule that needs approval (for oneself or as proxy)"
    )
    async def file(
        self, data: ClaimCreate, claims: ClaimService, principal: Principal, db_session: AsyncSession
    ) -> Claim:
        claim = await claims.file(data.member_id, data.rule_code, _quantity(data.quantity), data.note)
        shown = await actors(db_session, principal.tenant_id, [claim.filed_by], _is_staff(principal))
        if claim.member_id == principal.member_id:
            shown = {}
        return claim_answer(claim, data.rule_code, shown)

    @get("/{claim_id:uuid}", guards=[require_staff], summary="A claim of a member in the caller's subtree")
    async def read(
        self, claim_id: uuid.UUID, claims: ClaimService, principal: Principal, db_session: AsyncSession
    ) -> Claim:
        claim, rule = await claims.in_reach(claim_id)
        shown = await actors(db_session, principal.tenant_id, [claim.filed_by], True)
        return claim_answer(claim, rule.code, shown)

    @post(
        "/{claim_id:uuid}/approve",
        status_code=200,
        guards=[require_staff],
        summary="Approve: the member is awarded under the claim's rule, once (idem)",
    )
    async def approve(
        self,
        claim_id: uuid.UUID,
        request: Request,
        claims: ClaimService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ClaimApproved]:
        async def approve_claim() -> ClaimApproved:
            claim, posted = await claims.approve(claim_id, ledger)
            return ClaimApproved(
                claim.id, claim.status, posted.transaction_id, posted.member_id, posted.points, posted.balance
            )

        return await idempotent.run(idempotency_key, request.url.path, {}, approve_claim, status=200)

    @post("/{claim_id:uuid}/reject", status_code=200, guards=[require_staff], summary="Reject, with a reason")
    async def reject(self, claim_id: uuid.UUID, data: ClaimReject, claims: ClaimService) -> ClaimRejected:
        claim = await claims.reject(claim_id, data.reason)
        return ClaimRejected(claim.id, claim.status, claim.reason)


class ProxyController(Controller):
    path = "/proxies"
    tags = ["proxies"]
    guards = [require_staff]

    @post("/", summary="Appoint a member as proxy (代办员) for a member or for a unit's subtree")
    async def appoint(self, data: ProxyCreate, proxies: ProxyService) -> Proxy:
        return proxy_answer(await proxies.appoint(data.proxy_member_id, data.member_id, data.org_unit_id))

    @get("/", summary="Proxy appointments of members in the caller's subtree")
    async def list_proxies(self, proxies: ProxyService, limit: Limit = 50, cursor: Cursor = None) -> ProxyPage:
        rows = await proxies.listed(limit, decode_cursor(cursor))
        items = [proxy_answer(row) for row in rows]
        return ProxyPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))

    @delete("/{appointment_id:uuid}", summary="End an appointment")
    async def revoke(self, appointment_id: uuid.UUID, proxies: ProxyService) -> None:
        await proxies.revoke(appointment_id)
