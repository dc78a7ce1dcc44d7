"""In-service registration over HTTP."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import QueryParameter

from points_service.auth.guards import allow_roles, require_member, require_staff
from points_service.errors import NotFound
from points_service.openapi import REFUSALS
from points_service.registration.schemas import (
    Registration,
    RegistrationCreate,
    RegistrationReport,
    registered_member,
    registration_answer,
)
from points_service.registration.service import RegistrationService

MAX_LISTED = 2000


class RegistrationController(Controller):
    path = "/registrations"
    tags = ["in-service registration"]

    @post(
        "/",
        status_code=200,
        guards=[allow_roles("member", "staff", "admin")],
        summary="Register an in-service Party member with their residential community (双报到); again moves them",
    )
    async def register(self, data: RegistrationCreate, registrations: RegistrationService) -> Registration:
        registration = await registrations.register(
            data.member_id, data.community_id, data.workplace.strip(), data.registered_on
        )
        return registration_answer(registration)

    @get(
        "/",
        guards=[require_staff],
        summary="Who registered with the subtree's communities, and who took part in an activity in the period",
    )
    async def registered(
        self,
        org_unit_id: uuid.UUID,
        registrations: RegistrationService,
        first: Annotated[date, QueryParameter(name="from", description="First tenant-local day")],
        last: Annotated[date, QueryParameter(name="to", description="Last tenant-local day (inclusive)")],
    ) -> RegistrationReport:
        rows = await registrations.registered(org_unit_id, first, last)
        took_part = sum(row.took_part for row in rows)
        return RegistrationReport(
            registered=len(rows),
            took_part=took_part,
            participation_rate=round(took_part / len(rows), 4) if rows else None,
            items=[registered_member(row) for row in rows[:MAX_LISTED]],
        )


class MyRegistrationController(Controller):
    path = "/me/registration"
    tags = ["me"]
    guards = [require_member]

    @get("/", summary="My registration with a community (双报到)", opt={REFUSALS: (404,)})
    async def mine(self, registrations: RegistrationService) -> Registration:
        registration = await registrations.mine()
        if registration is None:
            raise NotFound("Not registered with a community")
        return registration_answer(registration)
