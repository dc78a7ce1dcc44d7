"""What staff do to accounts: reset a member's password, edit, move and switch off members, and (admins)
switch off, move or re-role staff. The console's roster pages call these too, with the staff member's
Principal, so the API and the pages share one set of rules.

Switching a member off switches off their login with them; it ends the login's sessions
(auth/accounts.py), keeps every point and line of history, keeps them out of awards and new
evaluations, and takes them off the leaderboards (which are dropped and rebuilt, as after a Redis
outage, since a member stands on one board per unit above them and period).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.accounts import (
    create_login,
    end_sessions,
    locked_login,
    set_login_active,
    set_password,
    temporary_password,
)
from points_service.auth.models import LoginAccount, UsernameLogin
from points_service.auth.principal import Principal
from points_service.auth.revocation import AccountStates
from points_service.database.session import after_commit
from points_service.errors import Conflict, Forbidden, NotFound
from points_service.leaderboards.upkeep import drop_boards
from points_service.org.models import Member
from points_service.org.names import pinyin_initials
from points_service.org.service import OrgService

# Fields of a member that staff may change (`update_member`); `active` and `org_unit_id` have rules.
MEMBER_FIELDS = ("name", "phone", "org_unit_id", "party_status", "cadre_position", "active")


@dataclass(frozen=True)
class TemporaryLogin:
    """A reset's answer: shown once to the staff member, who hands it over; never stored in clear."""

    username: str
    temporary_password: str


async def keep_off_the_boards(session: AsyncSession, redis: Redis, tenant_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """After a correction of a switched-off member's points (an adjustment, a reversal): the ledger
    publishes their new totals to the live boards, so the boards are rebuilt without them."""
    if await inactive_members(session, tenant_id, [member_id]):

        async def drop() -> None:
            await drop_boards(redis, tenant_id)

        after_commit(session, drop)


async def inactive_members(session: AsyncSession, tenant_id: uuid.UUID, member_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not member_ids:
        return set()
    found = await session.scalars(
        select(Member.id).where(
            Member.tenant_id == tenant_id, Member.id.in_(list(set(member_ids))), Member.active.is_(False)
        )
    )
    return set(found)


class AccountService:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        org: OrgService,
        states: AccountStates | None = None,
        redis: Redis | None = None,
    ) -> None:
        self._session = session
        self._principal = principal
        self._tenant_id = principal.tenant_id
        self._org = org
        self._states = states
        self._redis = redis

    # -- members ----------------------------------------------------------------------------------

    async def member_login(self, member_id: uuid.UUID) -> LoginAccount | None:
        return await self._session.scalar(
            select(LoginAccount)
            .where(LoginAccount.tenant_id == self._tenant_id, LoginAccount.member_id == member_id)
            .with_for_update()
        )

    async def reset_password(self, member_id: uuid.UUID) -> TemporaryLogin:
        """A temporary password for a member in the caller's reach, to be changed at the next sign-in;
        a member without a login gets one named by their phone (409 when another account holds it)."""
        member = await self._org.member_in_reach(member_id)
        password = temporary_password()
        account = await self.member_login(member.id)
        if account is None:
            account = await create_login(
                self._session,
                self._tenant_id,
                member.phone,
                password,
                "member",
                member_id=member.id,
                password_change_required=True,
            )
            account.is_active = member.active
            await self._session.flush()
        else:
            await set_password(self._session, account, password, temporary=True)
            self._forget(account)
        return TemporaryLogin(account.username, password)

    async def set_active(self, member_id: uuid.UUID, active: bool) -> Member:
        """Switch a member (and their login) off or on."""
        return await self.update_member(member_id, {"active": active})

    async def update_member(self, member_id: uuid.UUID, fields: dict[str, Any]) -> Member:
        """Change any of MEMBER_FIELDS of a member in the caller's reach; a move needs the target unit in
        reach too. Only the fields given change."""
        member = await self._org.member_in_reach(member_id)
        boards_change = False
        if "org_unit_id" in fields and fields["org_unit_id"] != member.org_unit_id:
            await self._org.unit_in_reach(fields["org_unit_id"])
            member.org_unit_id = fields["org_unit_id"]
            boards_change = True
        if "name" in fields and fields["name"] != member.name:
            member.name = fields["name"]
            member.pinyin_initials = pinyin_initials(member.name)
        if "phone" in fields and fields["phone"] != member.phone:
            taken = await self._session.scalar(
                select(Member.id).where(
                    Member.tenant_id == self._tenant_id, Member.phone == fields["phone"], Member.id != member.id
                )
            )
            if taken is not None:
                raise Conflict("A member with this phone number already exists")
            member.phone = fields["phone"]
        for name in ("party_status", "cadre_position"):
            if name in fields:
                setattr(member, name, fields[name])
        if "active" in fields and fields["active"] != member.active:
            member.active = fields["active"]
            account = await self.member_login(member.id)
            if account is not None:
                await set_login_active(self._session, account, member.active)
                self._forget(account)
            boards_change = True
        try:
            async with self._session.begin_nested():
                await self._session.flush()
        except IntegrityError as error:
            raise Conflict("A member with this phone number already exists") from error
        if boards_change:
            self._rebuild_boards()
        return member

    # -- staff ------------------------------------------------------------------------------------

    async def update_staff(
        self,
        account_id: uuid.UUID,
        active: bool | None = None,
        org_unit_id: uuid.UUID | None = None,
        role: str | None = None,
    ) -> LoginAccount:
        """Admins switch staff accounts off and on, move them to another unit, or change their role.
        A move or a new role ends the account's sessions: its tokens carry the old scope."""
        if not self._principal.is_admin:
            raise Forbidden("Only a tenant admin changes staff accounts")
        account = await locked_login(self._session, self._tenant_id, account_id)
        if account is None or account.role not in ("staff", "admin"):
            raise NotFound(f"No such staff account: {account_id}")
        if account.id == self._principal.account_id and (active is False or role not in (None, account.role)):
            raise Conflict("An admin cannot switch off or demote their own account")
        scope_changed = False
        if org_unit_id is not None and org_unit_id != account.org_unit_id:
            await self._org.unit_in_reach(org_unit_id)
            account.org_unit_id = org_unit_id
            scope_changed = True
        if role is not None and role != account.role:
            if role == "staff" and account.org_unit_id is None:
                raise Conflict("A staff account needs an org unit: send org_unit_id too")
            account.role = role
            await self._session.execute(
                update(UsernameLogin)
                .where(UsernameLogin.tenant_id == account.tenant_id, UsernameLogin.account_id == account.id)
                .values(account_kind=role)
            )
            scope_changed = True
        if active is not None:
            await set_login_active(self._session, account, active)
        if scope_changed and account.is_active:
            await end_sessions(self._session, account)
        await self._session.flush()
        self._forget(account)
        return account

    # -- effects ----------------------------------------------------------------------------------

    def _forget(self, account: LoginAccount) -> None:
        if self._states is not None:
            self._states.forget(account.id)

    def _rebuild_boards(self) -> None:
        redis, tenant_id = self._redis, self._tenant_id
        if redis is None:
            return

        async def drop() -> None:
            await drop_boards(redis, tenant_id)

        after_commit(self._session, drop)


def account_service(session: AsyncSession, principal: Principal, state: Any) -> AccountService:
    """The service as a page or an API handler builds it: the caller's reach, this process's account
    states (so a change is felt here at once) and Redis (so the leaderboards follow a switch-off)."""
    return AccountService(session, principal, OrgService(session, principal), state.account_states, state.redis)
