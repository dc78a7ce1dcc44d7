"""The earning API of activities, claims, feedback and proxies, mounted by the app factory under /api/v1."""

from __future__ import annotations

from litestar import Router


def activity_routers() -> list[Router]:
    return []
