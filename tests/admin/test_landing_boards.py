"""The landing page `/` links the 公示 boards that exist: a unit with a published evaluation is listed
with a link to its board, a unit whose evaluation is not published is not, and no member's name is on
the landing page (the board itself masks them)."""

from __future__ import annotations

import re

import httpx

from tests.admin.test_public_board import evaluation
from tests.conftest import Community, ServedApp


async def test_the_landing_page_links_the_boards_of_units_with_a_published_evaluation(
    community: Community, served: ServedApp
) -> None:
    published = await community.org_unit("幸福里社区")
    draft_only = await community.org_unit("未发布社区")
    rule = await community.rule(points=1)
    for unit, name in ((published, "钱多多"), (draft_only, "孙少少")):
        member = await community.member(unit, name=name)
        assert (await community.award(member["id"], rule, quantity=10)).status_code == 201
    await evaluation(community, published, "2026年上半年党员考评", publish=True)
    await evaluation(community, draft_only, "草稿考评", publish=False)

    async with httpx.AsyncClient(base_url=served.base_url, timeout=60) as web:
        landing = await web.get("/")
        english = await web.get("/", params={"lang": "en"})
        board = await web.get(f"/public/units/{published}")

    assert landing.status_code == 200, landing.text
    links = re.findall(r'href="(/public/units/[^"]+)"[^>]*>([^<]+)<span>([^<]+)</span>', landing.text)
    assert (f"/public/units/{published}", "幸福里社区", "最新：2026年上半年党员考评") in links
    assert f"/public/units/{draft_only}" not in landing.text and "草稿考评" not in landing.text
    assert "钱多多" not in landing.text and "孙少少" not in landing.text
    assert "公示栏" in landing.text
    assert "Public boards" in english.text and f"/public/units/{published}" in english.text
    # The link opens the board, which shows the evaluation with the name masked.
    assert board.status_code == 200 and "2026年上半年党员考评" in board.text
    assert "钱**" in board.text and "钱多多" not in board.text
