"""The sign-in service of one request, built the same way for the JSON API and for the pages."""

from __future__ import annotations

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.rate_limit import LoginLimiter
from points_service.auth.service import AuthService


def auth_service(db_session: AsyncSession, state: State) -> AuthService:
    return AuthService(
        db_session,
        state.access_tokens,
        LoginLimiter(state.limits_redis),
        state.side_session_factory,
        state.settings.refresh_token_days,
    )
