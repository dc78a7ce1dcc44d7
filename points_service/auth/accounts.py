"""Creating login accounts: the one place a password is hashed and a username claimed."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.models import LoginAccount
from points_service.auth.passwords import hash_password
from points_service.errors import Conflict


async def create_login(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    username: str,
    password: str,
    role: str,
    member_id: uuid.UUID | None = None,
    org_unit_id: uuid.UUID | None = None,
    merchant_id: uuid.UUID | None = None,
) -> LoginAccount:
    username = username.strip()
    taken = await session.scalar(select(LoginAccount.id).where(func.lower(LoginAccount.username) == username.lower()))
    if taken is not None:
        raise Conflict(f"Username {username!r} is already taken")
    account = LoginAccount(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        username=username,
        password_hash=await hash_password(password),
        role=role,
        member_id=member_id,
        org_unit_id=org_unit_id,
        merchant_id=merchant_id,
    )
    try:
        # A savepoint, so a concurrent registration of the same name ends in 409, not a broken transaction.
        async with session.begin_nested():
            session.add(account)
            await session.flush()
    except IntegrityError as error:
        raise Conflict(f"Username {username!r} is already taken") from error
    return account
