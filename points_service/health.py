from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Literal

import asyncpg
import msgspec
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from points_service.errors import RETRY_AFTER_SECONDS
from points_service.state import AppState

Up = Literal["up", "down"]

# How long each pool may take to answer SELECT 1 before the service counts as not ready.
READY_TIMEOUT_SECONDS = 3


class Alive(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    """`status` is `ok` when PostgreSQL answers on every pool of the service; Redis down still answers ok
    (the service works without it)."""

    status: Literal["ok", "unavailable"]
    database: Up
    redis: Up


@get("/health/live", tags=["health"], summary="The process runs")
async def live() -> Alive:
    return Alive("ok")


@get(
    "/health/ready",
    tags=["health"],
    summary="PostgreSQL answers (Redis is reported, not required)",
    responses={503: ResponseSpec(Readiness, description="PostgreSQL does not answer")},
)
async def ready(state: AppState) -> Response[Readiness]:
    # Every pool a request may need, not only the request pool: a write that takes stock or revokes a
    # token fails while its pool cannot reach PostgreSQL, and ready must not say "ok" then.
    answers = await asyncio.gather(
        _answers(_engine_answers(state.engine)),
        _answers(_sessions_answer(state.side_session_factory)),
        _answers(_sessions_answer(state.stock_session_factory)),
        _answers(state.read_pool.fetchval("SELECT 1")),
    )
    database: Up = "up" if all(answers) else "down"
    try:
        redis: Up = "up" if await state.redis.ping() else "down"
    except (RedisError, OSError):
        redis = "down"
    response = Response(
        Readiness("ok" if database == "up" else "unavailable", database, redis),
        status_code=200 if database == "up" else 503,
    )
    if database == "down":
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _engine_answers(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _sessions_answer(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await session.execute(text("SELECT 1"))


async def _answers(check: Awaitable[object]) -> bool:
    """Whether a pool answers within a bound: a PostgreSQL that hangs must not hang the probe."""
    try:
        await asyncio.wait_for(check, READY_TIMEOUT_SECONDS)
    except (SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    return True
