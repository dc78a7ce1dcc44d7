"""Login accounts: the one place a password is hashed, a username claimed, and an account's sessions
ended (a new password, a switch-off; auth/revocation.py says how access tokens learn of it)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.models import LoginAccount, RefreshToken, UsernameLogin
from points_service.auth.passwords import hash_password
from points_service.errors import Conflict, InvalidInput

MIN_PASSWORD = 8
MAX_PASSWORD = 128
# Temporary passwords are read off a slip and typed on a phone: no 0/O, 1/l/I.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_LENGTH = 10


def username_taken(username: str) -> Conflict:
    # The same words whichever tenant holds the name: a refusal must not tell one street about another.
    return Conflict(f"Username {username!r} is already taken")


def username_login(account: LoginAccount) -> UsernameLogin:
    """The row that lets sign-in find the account: added in the same transaction as the account."""
    return UsernameLogin(
        username=account.username.lower(), tenant_id=account.tenant_id, account_kind=account.role, account_id=account.id
    )


def temporary_password() -> str:
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))


def check_new_password(account: LoginAccount, password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput("new_password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    if password.strip().lower() == account.username.strip().lower():
        raise InvalidInput("new_password", "must not be the username")


async def create_login(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    username: str,
    password: str,
    role: str,
    member_id: uuid.UUID | None = None,
    org_unit_id: uuid.UUID | None = None,
    merchant_id: uuid.UUID | None = None,
    password_change_required: bool = False,
) -> LoginAccount:
    username = username.strip()
    # Any tenant's: the login body names no tenant, so the name must lead to one account.
    if await session.get(UsernameLogin, username.lower()) is not None:
        raise username_taken(username)
    account = LoginAccount(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        username=username,
        password_hash=await hash_password(password),
        role=role,
        member_id=member_id,
        org_unit_id=org_unit_id,
        merchant_id=merchant_id,
        password_change_required=password_change_required,
    )
    try:
        # A savepoint, so a concurrent registration of the same name ends in 409, not a broken transaction.
        # In another tenant the primary key of `username_logins` is what refuses it.
        async with session.begin_nested():
            session.add(account)
            session.add(username_login(account))
            await session.flush()
    except IntegrityError as error:
        raise username_taken(username) from error
    return account


async def locked_login(session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID) -> LoginAccount | None:
    """The account, locked: two changes of one account (a reset and a switch-off) queue."""
    return await session.scalar(
        select(LoginAccount).where(LoginAccount.tenant_id == tenant_id, LoginAccount.id == account_id).with_for_update()
    )


async def end_sessions(session: AsyncSession, account: LoginAccount) -> None:
    """Every refresh token of the account revoked, every access token issued so far refused."""
    account.token_generation += 1
    await session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.tenant_id == account.tenant_id,
            RefreshToken.account_id == account.id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )
    await session.flush()


async def set_password(session: AsyncSession, account: LoginAccount, password: str, *, temporary: bool) -> None:
    """A new password (a temporary one must be changed at the next sign-in); ends every session."""
    account.password_hash = await hash_password(password)
    account.password_change_required = temporary
    await end_sessions(session, account)


async def set_login_active(session: AsyncSession, account: LoginAccount, active: bool) -> None:
    """Switched off, the account cannot sign in and its sessions end; switched on, it may sign in again."""
    if account.is_active and not active:
        account.is_active = False
        await end_sessions(session, account)
    elif active and not account.is_active:
        account.is_active = True
        await session.flush()
