from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

Up = Literal["up", "down"]


class Alive(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    """`status` is `ok` when PostgreSQL answers; Redis down still answers ok (the service works without it)."""

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
async def ready(state: State) -> Response[Readiness]:
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database: Up = "up"
    except (SQLAlchemyError, OSError):
        database = "down"
    try:
        redis: Up = "up" if await state.redis.ping() else "down"
    except (RedisError, OSError):
        redis = "down"
    return Response(
        Readiness("ok" if database == "up" else "unavailable", database, redis),
        status_code=200 if database == "up" else 503,
    )
