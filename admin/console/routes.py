"""The staff console's routes, mounted by the app factory at /admin/."""

from __future__ import annotations

from litestar import Router


def console_routers() -> list[Router]:
    return []
