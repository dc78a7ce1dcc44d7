"""The member page's routes, mounted by the app factory at /member/."""

from __future__ import annotations

from litestar import Router


def member_page_routers() -> list[Router]:
    return []
