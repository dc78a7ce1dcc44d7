from __future__ import annotations

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_204_NO_CONTENT,
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_429_TOO_MANY_REQUESTS,
)
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.deps import auth_service
from points_service.auth.guards import require_any_role
from points_service.auth.principal import Principal
from points_service.auth.schemas import LoginRequest, PasswordChange, RefreshRequest, TokenResponse
from points_service.auth.service import TokenPair
from points_service.openapi import REFUSALS


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        role=pair.role,
        password_change_required=pair.password_change_required,
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/login",
        status_code=HTTP_200_OK,
        summary="Sign in with username and password",
        opt={REFUSALS: (HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN, HTTP_429_TOO_MANY_REQUESTS)},
    )
    async def login(
        self, data: LoginRequest, request: Request, db_session: AsyncSession, state: State
    ) -> TokenResponse:
        address = request.client.host if request.client else "unknown"
        return _tokens(await auth_service(db_session, state).login(data.username, data.password, address))

    @post(
        "/refresh",
        status_code=HTTP_200_OK,
        summary="Trade a refresh token for a new pair (rotation)",
        opt={REFUSALS: (HTTP_401_UNAUTHORIZED,)},
    )
    async def refresh(self, data: RefreshRequest, db_session: AsyncSession, state: State) -> TokenResponse:
        return _tokens(await auth_service(db_session, state).refresh(data.refresh_token))

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="Revoke a refresh token", opt={REFUSALS: ()})
    async def logout(self, data: RefreshRequest, db_session: AsyncSession, state: State) -> None:
        await auth_service(db_session, state).logout(data.refresh_token)


class PasswordController(Controller):
    path = "/me/password"
    tags = ["me"]

    @post(
        "/",
        status_code=HTTP_200_OK,
        guards=[require_any_role],
        summary="Change my password: every other session ends; the answer is a fresh token pair",
        opt={REFUSALS: (HTTP_400_BAD_REQUEST, HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN)},
    )
    async def change(
        self, data: PasswordChange, principal: Principal, db_session: AsyncSession, state: State
    ) -> TokenResponse:
        pair = await auth_service(db_session, state).change_password(
            principal, data.current_password, data.new_password
        )
        state.account_states.forget(principal.account_id)
        return _tokens(pair)
