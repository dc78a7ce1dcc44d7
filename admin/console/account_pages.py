"""The console's account pages: on a member's page, reset the password (a member without a login gets
one) and switch the account off or on; the staff accounts (admins only): switch off or on, move to
another unit, change the role; and the shops of the caller's subtree with their clerks, switched off or on.

Each calls the API's own services with the signed-in staff member's Principal (AccountService,
`state.shop_clerks`), so reach and the rules are the API's. A temporary password is shown once, on the
page that answers the reset: it is stored only as a hash.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Template
from sqlalchemy import select

from admin.console.page import STAFF_PAGE, back_to
from admin.console.work import Work, unit_asked
from points_service.accounts.clerks import shop_clerks
from points_service.accounts.service import account_service
from points_service.auth.models import LoginAccount
from points_service.errors import Conflict, DomainError, Forbidden, NotFound
from points_service.org.editing import RosterEdits
from points_service.web import Message

AnyRequest = Request[Any, Any, Any]
SHOPS_SHOWN = 100
STAFF_SHOWN = 500


class _ConfirmFirst(DomainError):
    status_code = 400
    code = "confirm_first"
    title = "Confirm first"


class _NotYourself(DomainError):
    code = "not_yourself"
    title = "Not your own account"


class _AdminsOnly(Forbidden):
    code = "admins_only"
    title = "Admins only"


def _switch(form: Any) -> bool:
    """The asked state: `on` switches on; anything else is a switch-off, which needs its tick."""
    if form.get("active") == "on":
        return True
    if form.get("confirm") not in ("on", "true"):
        raise _ConfirmFirst()
    return False


class AccountPages(Controller):
    path = "/"

    # -- a member's account -------------------------------------------------------------------------

    @post("/members/{member_id:uuid}/password", name="console:reset_password")
    async def reset_password(self, request: AnyRequest, member_id: uuid.UUID, work: Work) -> Response[Any]:
        back = f"/admin/members/{member_id}"
        accounts = account_service(work.db_session, work.staff, work.state)
        try:
            async with work.db_session.begin_nested():
                member = await work.org.member_in_reach(member_id)
                had_login = await accounts.member_login(member.id) is not None
                login = await accounts.reset_password(member.id)
        except Conflict:
            # The only conflict of a reset: a new login named by the phone, which another account holds.
            return STAFF_PAGE.redirect(request, back, Message.error("phone_login_taken"))
        except DomainError as error:
            return STAFF_PAGE.redirect(request, back, STAFF_PAGE.refusal(request, error))
        return STAFF_PAGE.render(
            request,
            "member_password",
            page_path="/admin/members",
            member=member,
            login=login,
            message=Message.done("password_reset_done" if had_login else "login_created_done"),
        )

    @post("/members/{member_id:uuid}/active", name="console:member_active")
    async def member_active(self, request: AnyRequest, member_id: uuid.UUID, work: Work) -> Response[Any]:
        form = await request.form()

        async def switch() -> Message:
            active = _switch(form)
            await account_service(work.db_session, work.staff, work.state).set_active(member_id, active)
            return Message.done("member_switched_on" if active else "member_switched_off")

        return await STAFF_PAGE.act(request, work.db_session, back_to(form, f"/admin/members/{member_id}"), switch)

    # -- staff accounts (admins) --------------------------------------------------------------------

    @get("/staff", name="console:staff")
    async def staff(self, request: AnyRequest, work: Work) -> Template:
        if not work.staff.is_admin:
            raise _AdminsOnly("Only a tenant admin manages staff accounts")
        accounts = list(
            await work.db_session.scalars(
                select(LoginAccount)
                .where(LoginAccount.tenant_id == work.staff.tenant_id, LoginAccount.role.in_(("staff", "admin")))
                .order_by(LoginAccount.role, LoginAccount.username)
                .limit(STAFF_SHOWN)
            )
        )
        edits = RosterEdits(work.db_session, work.org, work.staff.tenant_id)
        names = await edits.unit_names({account.org_unit_id for account in accounts if account.org_unit_id})
        return STAFF_PAGE.render(
            request,
            "staff",
            accounts=[
                (account, names.get(account.org_unit_id) if account.org_unit_id else None) for account in accounts
            ],
            units=await edits.units_with_depth(),
        )

    @post("/staff/{account_id:uuid}/active", name="console:staff_active")
    async def staff_active(self, request: AnyRequest, account_id: uuid.UUID, work: Work) -> Response[Any]:
        form = await request.form()

        async def switch() -> Message:
            active = _switch(form)
            if not work.staff.is_admin:
                raise _AdminsOnly("Only a tenant admin manages staff accounts")
            if account_id == work.staff.account_id and not active:
                raise _NotYourself()
            await account_service(work.db_session, work.staff, work.state).update_staff(account_id, active=active)
            return Message.done("staff_switched_on" if active else "staff_switched_off")

        return await STAFF_PAGE.act(request, work.db_session, "/admin/staff", switch)

    @post("/staff/{account_id:uuid}/scope", name="console:staff_scope")
    async def staff_scope(self, request: AnyRequest, account_id: uuid.UUID, work: Work) -> Response[Any]:
        form = await request.form()

        async def change() -> Message:
            if not work.staff.is_admin:
                raise _AdminsOnly("Only a tenant admin manages staff accounts")
            role = "admin" if form.get("role") == "admin" else "staff"
            if account_id == work.staff.account_id and role != "admin":
                raise _NotYourself()
            await account_service(work.db_session, work.staff, work.state).update_staff(
                account_id, org_unit_id=unit_asked(str(form.get("org_unit_id") or "")), role=role
            )
            return Message.done("staff_scope_saved")

        return await STAFF_PAGE.act(request, work.db_session, "/admin/staff", change)

    # -- shop clerks --------------------------------------------------------------------------------

    @get("/clerks", name="console:clerks")
    async def clerks(self, request: AnyRequest, work: Work, q: str | None = None) -> Template:
        needle = (q or "").strip()[:50]
        directory = shop_clerks(work.state)
        shops = await directory.shops(work.db_session, work.staff, needle or None, SHOPS_SHOWN) if directory else []
        return STAFF_PAGE.render(request, "clerks", shops=shops, q=needle)

    @post("/clerks/{merchant_id:uuid}/{clerk_id:uuid}/active", name="console:clerk_active")
    async def clerk_active(
        self, request: AnyRequest, merchant_id: uuid.UUID, clerk_id: uuid.UUID, work: Work
    ) -> Response[Any]:
        form = await request.form()
        directory = shop_clerks(work.state)

        async def switch() -> Message:
            active = _switch(form)
            if directory is None:
                raise NotFound(f"No such merchant: {merchant_id}")
            await directory.set_clerk_active(
                work.db_session, work.staff, merchant_id, clerk_id, active, work.state.account_states
            )
            return Message.done("clerk_switched_on" if active else "clerk_switched_off")

        return await STAFF_PAGE.act(request, work.db_session, back_to(form, "/admin/clerks"), switch)


ACCOUNT_CONTROLLERS = [AccountPages]
