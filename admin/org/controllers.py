from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter

from admin.org.schemas import (
    MemberCreate,
    MemberPage,
    MemberView,
    OrgUnitCreate,
    OrgUnitView,
    OrgUnitWithChildren,
    StaffCreate,
    StaffView,
    member_body,
    staff_body,
    unit_body,
    unit_with_children,
)
from points_service.errors import InvalidInput
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService
from points_service.pagination import Cursor, Limit, decode_cursor, next_page


class OrgUnitController(Controller):
    path = "/org-units"
    tags = ["admin: org tree"]

    @post("/", summary="Create an org unit (top-level: admins only)")
    async def create(self, data: OrgUnitCreate, org: OrgService) -> OrgUnitView:
        return unit_body(await org.create_unit(data.name.strip(), data.kind, data.parent_id))

    @get("/{unit_id:uuid}", summary="An org unit and its direct children")
    async def read(self, unit_id: uuid.UUID, org: OrgService) -> OrgUnitWithChildren:
        return unit_with_children(*await org.unit_with_children(unit_id))


class MemberController(Controller):
    path = "/members"
    tags = ["admin: members"]

    @post("/", summary="Register a member (optionally with a login)")
    async def create(self, data: MemberCreate, org: OrgService, ledger: LedgerService) -> MemberView:
        if (data.username is None) != (data.password is None):
            raise InvalidInput(
                "password" if data.password is None else "username", "username and password come together"
            )
        member = await org.create_member(
            ledger,
            data.name.strip(),
            data.phone,
            data.org_unit_id,
            data.party_status,
            data.cadre_position,
            data.username,
            data.password,
        )
        return member_body(member)

    @get("/{member_id:uuid}", summary="A member in the caller's subtree")
    async def read(self, member_id: uuid.UUID, org: OrgService) -> MemberView:
        return member_body(await org.member_in_reach(member_id))

    @get("/", summary="Search members: name substring, last 4 phone digits, pinyin initials")
    async def search(
        self,
        org: OrgService,
        q: Annotated[str | None, Parameter(max_length=50)] = None,
        org_unit_id: uuid.UUID | None = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> MemberPage:
        members = await org.search_members(q, org_unit_id, limit, decode_cursor(cursor))
        items = [member_body(member) for member in members]
        return MemberPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))


class StaffController(Controller):
    path = "/staff"
    tags = ["admin: staff"]

    @post("/", summary="Create a staff or admin login (admins only)")
    async def create(self, data: StaffCreate, org: OrgService) -> StaffView:
        return staff_body(await org.create_staff(data.username, data.password, data.org_unit_id, data.role))
