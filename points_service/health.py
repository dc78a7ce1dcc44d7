from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError


@get("/health/live", tags=["health"], summary="The process runs")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@get("/health/ready", tags=["health"], summary="PostgreSQL answers (Redis is reported, not required)")
async def ready(state: State) -> Response[dict[str, Any]]:
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        database = "up"
    except (SQLAlchemyError, OSError):
        database = "down"
    try:
        redis = "up" if await state.redis.ping() else "down"
    except (RedisError, OSError):
        redis = "down"
    status = "ok" if database == "up" else "unavailable"
    return Response(
        {"status": status, "database": database, "redis": redis}, status_code=200 if database == "up" else 503
    )
