"""The shop's own application form at /merchant/apply/{org unit id}: the link (or QR code) a community
gives to shops it wants to join. Filing it creates a pending merchant and its first clerk login, through
the same service as POST /api/v1/merchant-applications; staff then approve it."""

from __future__ import annotations

import math
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.applications import MerchantApplications, application_limiter
from merchants.schemas import MerchantApplication
from merchants.web.page import CLERK_PAGE
from points_service.errors import Conflict, NotFound, TooManyAttempts
from points_service.web import Message

FIELDS = ("name", "address", "username")


class ApplicationPageController(Controller):
    path = "/apply"

    @get("/{org_unit_id:uuid}", name="merchant_page:apply")
    async def form(
        self, org_unit_id: uuid.UUID, request: Request[Any, Any, Any], db_session: AsyncSession, state: State
    ) -> Response[Any]:
        community = await _community(db_session, state, org_unit_id)
        if community is None:
            return CLERK_PAGE.render(request, "apply", status=404, message="community_not_found", values={})
        return CLERK_PAGE.render(request, "apply", community=community.name, values={})

    @post("/{org_unit_id:uuid}", name="merchant_page:apply_post")
    async def apply(
        self, org_unit_id: uuid.UUID, request: Request[Any, Any, Any], db_session: AsyncSession, state: State
    ) -> Response[Any]:
        page_path = f"/merchant/apply/{org_unit_id}"
        posted = await request.form()
        values = {name: str(posted.get(name) or "").strip() for name in FIELDS}
        password = str(posted.get("password") or "")
        applications = MerchantApplications(db_session, application_limiter(state.limits_redis))
        community = await _community(db_session, state, org_unit_id)
        if community is None:
            return CLERK_PAGE.render(
                request, "apply", page_path=page_path, status=404, message="community_not_found", values=values
            )
        status, message = 400, Message.error("application_invalid")
        try:
            data = msgspec.convert(
                {**values, "org_unit_id": str(org_unit_id), "password": password}, MerchantApplication
            )
        except msgspec.ValidationError:
            pass
        else:
            client = request.client.host if request.client else "unknown"
            try:
                merchant = await applications.apply(
                    org_unit_id, data.name, data.address, data.username, data.password, client
                )
            except Conflict:
                status, message = 409, Message.error("username_taken")
            except TooManyAttempts as refusal:
                minutes = math.ceil(refusal.retry_after / 60)
                status, message = 429, Message.error("too_many_attempts", minutes=minutes)
            else:
                return CLERK_PAGE.render(
                    request, "applied", page_path=page_path, community=community.name, shop=merchant.name
                )
        return CLERK_PAGE.render(
            request,
            "apply",
            page_path=page_path,
            status=status,
            message=message,
            community=community.name,
            values=values,
        )


async def _community(db_session: AsyncSession, state: State, org_unit_id: uuid.UUID) -> Any:
    try:
        return await MerchantApplications(db_session, application_limiter(state.limits_redis)).community(org_unit_id)
    except NotFound:
        return None
