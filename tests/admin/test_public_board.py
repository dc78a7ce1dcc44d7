"""公示: a unit's board for the building's entrance. In Chromium the board shows the published evaluation
with masked names (never an unpublished one), prints on one A4 page for 30 rows with its QR code and the
ledger's seal digest, and a member sees their own result on the member page. Over HTTP the public JSON and
seal answer without signing in and are limited per address; `points-service seals verify` passes on an
untouched ledger and fails once a sealed transaction's row is changed in the database."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.public.controllers import PUBLIC_CALLS_PER_MINUTE
from points_service.ledger.reconcile import reconcile
from points_service.tenancy.periods import TenantClock
from tests.conftest import PASSWORD, Community, ServedApp, Services
from tests.merchants import test_merchant_page as merchant_page
from tests.points_service.test_activities import code_of

browser = merchant_page.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "public-board"
FAMILY = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏"


async def community_of(community: Community, people: int) -> tuple[str, list[dict[str, Any]]]:
    unit = await community.org_unit("光明社区")
    rule = await community.rule(points=1)
    members = []
    for i in range(people):
        member = await community.member(unit, name=f"{FAMILY[i]}小明", login=i == 0)
        assert (await community.award(member["id"], rule, quantity=100 - i)).status_code == 201
        members.append(member)
    return unit, members


async def evaluation(community: Community, unit: str, name: str, publish: bool) -> str:
    created = await community.admin.post(
        "/api/v1/admin/evaluations",
        json={
            "name": name,
            "org_unit_id": unit,
            "target": "all",
            "period_start": "2020-01-01",
            "period_end": "2099-12-31",
            "metrics": [{"metric": "earned_points", "weight": 1}],
        },
    )
    evaluation_id = str(created.json()["id"])
    assert (await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/run")).status_code == 200
    if publish:
        assert (await community.admin.post(f"/api/v1/admin/evaluations/{evaluation_id}/publish")).status_code == 200
    return evaluation_id


async def seal_today(sessions: async_sessionmaker[AsyncSession], community: Community) -> None:
    """Seal the tenant's days up to today (the nightly reconcile seals only finished days)."""
    async with sessions() as session, session.begin():
        until = TenantClock("Asia/Shanghai").today() + timedelta(days=2)
        await reconcile(session, until, community.tenant_id)


async def forget_the_count(services: Services) -> None:
    redis = Redis.from_url(services.redis_url)
    try:
        await redis.delete(*[key async for key in redis.scan_iter("public-calls:*")] or ["public-calls:none"])
    finally:
        await redis.aclose()


async def test_the_board_shows_the_published_evaluation_masked_and_prints_on_one_a4_page(
    community: Community,
    browser: Any,
    served: ServedApp,
    services: Services,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await forget_the_count(services)
    unit, members = await community_of(community, 30)
    await evaluation(community, unit, "2026年度党员考评", publish=True)
    await evaluation(community, unit, "尚未发布的考评", publish=False)
    await seal_today(sessions, community)
    seal = (await community.anonymous.get(f"/api/v1/public/units/{unit}/seal")).json()
    context = await browser.new_context(base_url=served.base_url, locale="zh-CN")
    try:
        board = await context.new_page()
        await board.goto(f"/public/units/{unit}")
        shown = await board.inner_text("body")
        rows = await board.locator("section.evaluation tbody tr").all_inner_texts()
        qr_width = await board.locator("#qr svg").get_attribute("width")
        pdf = await board.pdf(format="A4", print_background=True)
        await board.emulate_media(media="print")
        printed = {
            part: await board.locator(part).is_visible()
            for part in ("#qr svg", "#seal-digest", "#board-date", "#print", "#month-board")
        }
        await board.emulate_media(media="screen")
        await board.set_viewport_size({"width": 360, "height": 740})
        phone_width = await board.evaluate("document.scrollingElement.scrollWidth")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await board.screenshot(path=str(ARTIFACTS / "01-board.png"), full_page=True)
        (ARTIFACTS / "02-board-a4.pdf").write_bytes(pdf)

        member = await context.new_page()
        await member.goto("/member/")
        await member.fill("#username", members[0]["username"])
        await member.fill("#password", PASSWORD)
        await member.click("#sign-in-form button[type=submit]")
        await member.click("#my-evaluations-link")
        await member.set_viewport_size({"width": 360, "height": 740})
        mine = await member.inner_text("#my-evaluations")
        await member.screenshot(path=str(ARTIFACTS / "03-member-evaluations.png"), full_page=True)
        await member.goto("/member/evaluations?lang=en")
        mine_in_english = await member.inner_text("#my-evaluations")
    finally:
        await context.close()

    assert "2026年度党员考评" in shown and "尚未发布的考评" not in shown
    assert len(rows) == 30
    assert phone_width <= 360, f"the board scrolls sideways on a phone: {phone_width}px"
    assert rows[0].split("\t")[:2] == ["1", "赵**"] and "优秀" in rows[0]
    assert not any(m["name"] in shown for m in members)
    assert seal["digest"] in shown and await_digest_in(shown, seal["digest"])
    # A standard QR code is at least 21 modules (a Micro QR at most 17): with its border, 25 × 8 px.
    assert qr_width is not None and int(float(qr_width)) >= 200
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    # On paper: the QR code, the date and the seal; not the print button, nor the month's points (stale by
    # the next day).
    assert printed == {
        "#qr svg": True,
        "#seal-digest": True,
        "#board-date": True,
        "#print": False,
        "#month-board": False,
    }
    assert "2026年度党员考评" in mine and "第 1 名 / 共 30 人" in mine and "优秀" in mine and "获得积分" in mine
    assert "Rank 1 of 30" in mine_in_english and "Points earned" in mine_in_english


def await_digest_in(shown: str, digest: str) -> bool:
    return len(digest) == 64 and shown.count(digest) == 1


async def test_public_json_and_seal_answer_without_sign_in_and_are_limited_per_address(
    community: Community, services: Services, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await forget_the_count(services)
    unit, members = await community_of(community, 3)
    published = await evaluation(community, unit, "公开的考评", publish=True)
    await evaluation(community, unit, "未公开的考评", publish=False)
    base = f"/api/v1/public/units/{unit}"
    unsealed = await community.anonymous.get(f"{base}/seal", params={"date": "2026-12-06"})
    await seal_today(sessions, community)
    today = TenantClock("Asia/Shanghai").today().isoformat()
    me = await community.client_for(members[0]["username"])

    listed = await community.anonymous.get(f"{base}/evaluations")
    sealed = await community.anonymous.get(f"{base}/seal", params={"date": today})
    not_a_date = await community.anonymous.get(f"{base}/seal", params={"date": "2026-13-45"})
    unknown = await community.anonymous.get("/api/v1/public/units/00000000-0000-4000-8000-000000000000/evaluations")
    unknown_page = await community.anonymous.get("/public/units/00000000-0000-4000-8000-000000000000")
    mine = (await me.get("/api/v1/me/evaluations")).json()["items"]

    assert unsealed.status_code == 404
    assert [item["id"] for item in listed.json()["items"]] == [published]
    assert [(r["rank"], r["display_name"], r["grade"], r["score"]) for r in listed.json()["items"][0]["results"]] == [
        (1, "赵**", "excellent", 100),
        (2, "钱**", "excellent", 99),
        (3, "孙**", "excellent", 98),
    ]
    assert sealed.status_code == 200
    assert sealed.json()["date"] == today and len(sealed.json()["digest"]) == 64 and sealed.json()["transactions"] >= 3
    assert (not_a_date.status_code, code_of(not_a_date)) == (400, "validation_error")
    assert unknown.status_code == 404 and unknown_page.status_code == 404
    assert [(m["evaluation"]["id"], m["rank"], m["of"], m["grade"], m["metrics"]) for m in mine] == [
        (published, 1, 3, "excellent", {"earned_points": 100})
    ]

    # One address, a burst well over the limit: at least 60 a minute are always served, then 429.
    await forget_the_count(services)
    answers = []
    async with httpx.AsyncClient(base_url=community.base_url, timeout=60) as resident:
        for _ in range(PUBLIC_CALLS_PER_MINUTE + 5):
            answers.append(await resident.get(f"{base}/evaluations"))
    served_count = sum(1 for answer in answers if answer.status_code == 200)
    refused = [answer for answer in answers if answer.status_code == 429]
    await forget_the_count(services)
    assert served_count >= 60 and refused
    assert code_of(refused[0]) == "too_many_attempts" and int(refused[0].headers["retry-after"]) <= 60


async def test_seals_verify_passes_untouched_and_fails_after_a_sealed_row_is_changed(
    community: Community,
    services: Services,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from points_service.cli import main

    unit = await community.org_unit()
    member = await community.member(unit)
    posted = await community.award(member["id"], await community.rule(points=10))
    transaction_id = posted.json()["transaction_id"]
    await seal_today(sessions, community)
    today = TenantClock("Asia/Shanghai").today().isoformat()
    monkeypatch.setitem(os.environ, "DATABASE_URL", services.database_url)
    monkeypatch.setitem(os.environ, "REDIS_URL", services.redis_url)
    command = ["seals", "verify", "--date", today, "--tenant", str(community.tenant_id)]

    async def change(delta: int) -> None:
        # An intruder with DDL rights: the append-only guard lifted for this one transaction only.
        async with sessions() as session, session.begin():
            await session.execute(
                text("ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_append_only")
            )
            await session.execute(
                text("UPDATE ledger_transactions SET earned_delta = earned_delta + :delta WHERE id = :id"),
                {"delta": delta, "id": transaction_id},
            )
            await session.execute(
                text("ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_append_only")
            )

    untouched = await asyncio.to_thread(CliRunner().invoke, main, command, catch_exceptions=False)
    await change(1000)
    try:
        changed = await asyncio.to_thread(CliRunner().invoke, main, command, catch_exceptions=False)
    finally:
        await change(-1000)
    unsealed = await asyncio.to_thread(
        CliRunner().invoke, main, ["seals", "verify", "--date", "1999-01-01"], catch_exceptions=False
    )

    assert untouched.exit_code == 0, untouched.output
    assert "the ledger matches its seal" in untouched.output
    assert changed.exit_code == 1
    assert "does NOT match its seal" in changed.output
    assert unsealed.exit_code == 1 and "No seal is stored for 1999-01-01" in unsealed.output
