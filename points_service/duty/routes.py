"""The earning API of posts and shifts, micro-wishes, problem reports and in-service registration,
mounted by the app factory under /api/v1."""

from __future__ import annotations

from litestar import Router


def duty_routers() -> list[Router]:
    return []
