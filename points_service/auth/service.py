"""Sign-in, refresh-token rotation with reuse detection, and logout."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.accounts import check_new_password, locked_login, set_password
from points_service.auth.models import LoginAccount, RefreshToken, UsernameLogin
from points_service.auth.passwords import verify_password
from points_service.auth.principal import Principal
from points_service.auth.rate_limit import LoginLimiter
from points_service.auth.tokens import AccessTokens
from points_service.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidInput,
    InvalidToken,
    WrongPassword,
)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    role: str
    password_change_required: bool = False


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issued_token(tenant_id: uuid.UUID) -> str:
    # The tenant in clear before the secret: a refresh or logout finds the token within its tenant (one
    # shard under Citus) rather than by its hash across all of them. The hash covers the whole string,
    # so another tenant's id in front finds nothing.
    return f"{tenant_id.hex}.{secrets.token_urlsafe(32)}"


def _same_token(refresh_token: str) -> list[ColumnElement[bool]]:
    """The lookup of a presented refresh token: by tenant and hash; by hash alone for a token issued
    before tokens named their tenant (until the last of those expires)."""
    by_hash = RefreshToken.token_hash == _hash_token(refresh_token)
    tenant_text, dot, _secret = refresh_token.partition(".")
    if not dot:
        return [by_hash]
    try:
        tenant_id = uuid.UUID(hex=tenant_text)
    except ValueError:
        return [by_hash]
    return [RefreshToken.tenant_id == tenant_id, by_hash]


def principal_of(account: LoginAccount) -> Principal:
    return Principal(
        account_id=account.id,
        tenant_id=account.tenant_id,
        role=account.role,
        member_id=account.member_id,
        org_unit_id=account.org_unit_id,
        merchant_id=account.merchant_id,
        generation=account.token_generation,
        password_change_required=account.password_change_required,
    )


class AuthService:
    def __init__(
        self,
        session: AsyncSession,
        tokens: AccessTokens,
        limiter: LoginLimiter,
        session_factory: async_sessionmaker[AsyncSession],
        refresh_days: int,
    ) -> None:
        self._session = session
        self._tokens = tokens
        self._limiter = limiter
        self._session_factory = session_factory
        self._refresh_lifetime = timedelta(days=refresh_days)

    async def login(self, username: str, password: str, address: str) -> TokenPair:
        # Counted as a failure before the password is checked: concurrent guesses cannot outrun the count.
        await self._limiter.take(username, address)
        # Looked up on a connection given back before the password is checked: a login waiting its
        # turn for Argon2 (passwords.py) holds none, so a storm of logins cannot drain the request
        # pool every other request needs (it did: 132 of 200 logins at once answered 503).
        async with self._session_factory() as lookup:
            # The global name first, then the account by its tenant and id: one shard under Citus.
            name = await lookup.get(UsernameLogin, username.strip().lower())
            account = await lookup.get(LoginAccount, (name.tenant_id, name.account_id)) if name else None
        valid = await verify_password(account.password_hash if account else None, password)
        if account is None or not valid:
            raise InvalidCredentials()
        await self._limiter.record_success(username, address)
        if not account.is_active:
            # Only now: telling a guesser that an account is switched off would confirm it exists.
            raise AccountDisabled("This account is switched off; ask the community office")
        return await self._issue(account, family_id=uuid.uuid4())

    async def change_password(self, principal: Principal, current: str, new: str) -> TokenPair:
        """The caller's own new password: every other session ends, and the answer is a fresh pair."""
        account = await locked_login(self._session, principal.tenant_id, principal.account_id)
        if account is None or not account.is_active:
            raise InvalidToken()
        if not await verify_password(account.password_hash, current):
            raise WrongPassword()
        check_new_password(account, new)
        if await verify_password(account.password_hash, new):
            raise InvalidInput("new_password", "must differ from the current password")
        await set_password(self._session, account, new, temporary=False)
        return await self._issue(account, family_id=uuid.uuid4())

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = datetime.now(UTC)
        # FOR UPDATE: two concurrent uses of one token are serialised, so the second sees it spent.
        token = await self._session.scalar(select(RefreshToken).where(*_same_token(refresh_token)).with_for_update())
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            raise InvalidToken()
        if token.used_at is not None:
            # A spent token presented again means it leaked: kill the whole family, in a transaction
            # of its own so the revocation stands although this request answers 401.
            await self._revoke_family(token)
            raise InvalidToken("This refresh token was already used; its whole family is now revoked")
        account = await self._session.scalar(
            select(LoginAccount).where(LoginAccount.tenant_id == token.tenant_id, LoginAccount.id == token.account_id)
        )
        if account is None or not account.is_active:
            raise InvalidToken()
        token.used_at = now
        return await self._issue(account, family_id=token.family_id)

    async def logout(self, refresh_token: str) -> None:
        await self._session.execute(
            update(RefreshToken)
            .where(*_same_token(refresh_token), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )

    async def _issue(self, account: LoginAccount, family_id: uuid.UUID) -> TokenPair:
        refresh_token = _issued_token(account.tenant_id)
        self._session.add(
            RefreshToken(
                tenant_id=account.tenant_id,
                account_id=account.id,
                family_id=family_id,
                token_hash=_hash_token(refresh_token),
                expires_at=datetime.now(UTC) + self._refresh_lifetime,
            )
        )
        await self._session.flush()
        return TokenPair(
            access_token=self._tokens.issue(principal_of(account)),
            refresh_token=refresh_token,
            expires_in=self._tokens.lifetime_seconds,
            role=account.role,
            password_change_required=account.password_change_required,
        )

    async def _revoke_family(self, spent: RefreshToken) -> None:
        # The spent token itself is left out: this request holds its row lock, and it is dead anyway.
        async with self._session_factory() as session, session.begin():
            await session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.tenant_id == spent.tenant_id,
                    RefreshToken.family_id == spent.family_id,
                    RefreshToken.id != spent.id,
                    RefreshToken.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC))
            )
