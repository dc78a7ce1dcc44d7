"""Staff manage accounts: reset a member's password, edit or switch off a member, and (admins) staff."""

from __future__ import annotations

import uuid

from litestar import Controller, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from admin.accounts.schemas import MemberPatch, StaffPatch, TemporaryLoginView, sent_fields
from admin.org.schemas import MemberView, StaffView, member_body, staff_body
from points_service.accounts.service import AccountService
from points_service.auth.principal import Principal
from points_service.org.service import OrgService


async def provide_accounts(
    db_session: AsyncSession, principal: Principal, org: OrgService, state: State
) -> AccountService:
    # The request's own org service: its reach is loaded once per request.
    return AccountService(db_session, principal, org, state.account_states, state.redis)


class MemberAccountController(Controller):
    path = "/members"
    tags = ["admin: members"]
    dependencies = {"accounts": Provide(provide_accounts)}

    @post(
        "/{member_id:uuid}/password-reset",
        status_code=200,
        summary="A temporary password for a member (a login named by the phone if they have none)",
    )
    async def reset_password(self, member_id: uuid.UUID, accounts: AccountService) -> TemporaryLoginView:
        login = await accounts.reset_password(member_id)
        return TemporaryLoginView(login.username, login.temporary_password)

    @patch("/{member_id:uuid}", summary="Edit, move, switch off or on a member in the caller's subtree")
    async def update(self, member_id: uuid.UUID, data: MemberPatch, accounts: AccountService) -> MemberView:
        return member_body(await accounts.update_member(member_id, sent_fields(data)))


class StaffAccountController(Controller):
    path = "/staff"
    tags = ["admin: staff"]
    dependencies = {"accounts": Provide(provide_accounts)}

    @patch("/{account_id:uuid}", summary="Switch a staff account off or on, move it, change its role (admins)")
    async def update(self, account_id: uuid.UUID, data: StaffPatch, accounts: AccountService) -> StaffView:
        return staff_body(await accounts.update_staff(account_id, data.active, data.org_unit_id, data.role))
