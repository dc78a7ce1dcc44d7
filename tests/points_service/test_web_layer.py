"""The one web layer the pages share (points_service.web): every page's words are complete in every
language and cover what its templates and handlers say; a message after an action is shown once; a
refusal on a page is a readable page in Chinese, never JSON."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from admin.console.page import STAFF_PAGE
from merchants.web.controllers import REFUSAL_MESSAGES, STATUS_MESSAGES
from merchants.web.page import CLERK_PAGE
from points_service.mobile.page import MEMBER_PAGE
from points_service.web import TEMPLATE_DIRECTORY, Message, Page
from tests.conftest import PASSWORD, Community, ServedApp, unique
from tests.points_service.test_activities import member_phone
from tests.points_service.test_duty import create_post

PAGES = [MEMBER_PAGE, CLERK_PAGE, STAFF_PAGE]
# Where each page's handlers are written, by the name they use for the page.
HANDLERS = {"member": "MEMBER_PAGE", "merchant": "CLERK_PAGE", "console": "STAFF_PAGE"}
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
# `t.key`, `t["key"]` and `t['key']` in a template (not a method such as `t.get(...)`).
TEMPLATE_WORD = re.compile(r"""\bt(?:\.([a-z_][a-z0-9_]*)\b(?!\s*\()|\[["']([a-z_][a-z0-9_]*)["']\])""")
# Keys a handler hands to the page: Message.done("k"), Message.error("k"), message="k", wrong_door="k",
# and the last argument of the console's staff_action(...).
HANDLER_WORD = re.compile(
    r"""(?:Message\.(?:done|error)\(|message=|wrong_door=)"([a-z_][a-z0-9_]*)"|staff_action\([^)]*"([a-z_]+)"\)"""
)


def handler_sources(page: Page) -> list[Path]:
    package = page.template_directory.parent
    return [source for source in package.glob("*.py") if HANDLERS[page.name] in source.read_text()]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_language_of_a_page_has_the_same_words(page: Page) -> None:
    assert page.catalogue.missing() == {}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_word_a_template_uses_is_in_the_catalogue(page: Page) -> None:
    templates = sorted(
        [*(page.template_directory / page.name).glob("*.html"), *(TEMPLATE_DIRECTORY / "web").glob("*.html")]
    )
    used = {
        key
        for template in templates
        for match in TEMPLATE_WORD.finditer(template.read_text())
        for key in match.groups()
        if key
    }

    assert templates and used
    assert used - set(page.catalogue.words("zh-CN")) == set()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_message_a_handler_sends_is_in_the_catalogue(page: Page) -> None:
    sent = {
        key
        for source in handler_sources(page)
        for match in HANDLER_WORD.finditer(source.read_text())
        for key in match.groups()
        if key
    }
    if page is CLERK_PAGE:
        sent |= {*STATUS_MESSAGES.values(), *REFUSAL_MESSAGES.values()}

    assert sent
    assert sent - set(page.catalogue.words("zh-CN")) == set()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_page_has_its_sign_in_and_problem_templates(page: Page) -> None:
    for template in ("login", "problem"):
        assert (page.template_directory / page.name / f"{template}.html").exists()


def test_a_message_travels_in_its_cookie_and_nothing_else_does() -> None:
    sent = Message.done("saved", count=3)

    assert Message.from_cookie(sent.to_cookie()) == sent
    assert Message.from_cookie("not-a-message") is None
    assert Message.from_cookie(Message.error("saved", shown="<b>text</b>").to_cookie()) == Message.error("saved")


def test_a_message_missing_an_argument_still_reads() -> None:
    assert Message.error("too_many_attempts").text({"too_many_attempts": "请 {minutes} 分钟后再试"}) == (
        "请 {minutes} 分钟后再试"
    )


# -- over HTTP --------------------------------------------------------------------------------------


@pytest.fixture
async def web(served: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=60, follow_redirects=False) as client:
        yield client


async def staff_signed_in(community: Community, web: httpx.AsyncClient) -> tuple[str, str]:
    unit = await community.org_unit("红旗社区")
    username = unique("s")
    created = await community.admin.post(
        "/api/v1/admin/staff", json={"username": username, "password": PASSWORD, "org_unit_id": unit, "role": "staff"}
    )
    assert created.status_code == 201, created.text
    token = CSRF_FIELD.search((await web.get("/admin/login")).text).group(1)  # type: ignore[union-attr]
    signed_in = await web.post("/admin/login", data={"username": username, "password": PASSWORD, "_csrf_token": token})
    assert signed_in.status_code == 303, signed_in.text
    return unit, token


async def test_signing_out_says_so_once(community: Community, web: httpx.AsyncClient) -> None:
    _, token = await staff_signed_in(community, web)

    signed_out = await web.post("/admin/logout", data={"_csrf_token": token})
    first = await web.get(signed_out.headers["location"])
    again = await web.get("/admin/login")

    assert signed_out.status_code == 303
    assert 'id="signed_out"' in first.text and "已退出登录" in first.text
    assert "已退出登录" not in again.text


async def test_a_done_action_says_what_it_did(community: Community, web: httpx.AsyncClient) -> None:
    unit, token = await staff_signed_in(community, web)

    # The least an evaluation needs: a unit, a period and one weighted metric.
    period = {"period_start": "2026-01-01", "period_end": "2026-11-01"}
    form = {"org_unit_id": unit, **period, "weight_earned_points": "1", "_csrf_token": token}
    created = await web.post("/admin/evaluations", data=form)
    shown = await web.get(created.headers["location"])

    assert created.status_code == 303, created.text
    assert 'id="evaluation_created"' in shown.text and "考评已创建" in shown.text


async def test_an_unreadable_form_says_what_to_fix_in_chinese(community: Community, web: httpx.AsyncClient) -> None:
    unit, token = await staff_signed_in(community, web)

    refused = await web.post(
        "/admin/evaluations",
        data={"name": "x", "org_unit_id": unit, "period_start": "someday", "_csrf_token": token},
    )

    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("text/html")
    assert "请至少给一项指标填写" in refused.text


async def test_a_refusal_is_a_readable_page_with_the_navigation(community: Community, web: httpx.AsyncClient) -> None:
    await staff_signed_in(community, web)

    missing = await web.get(f"/admin/evaluations/{uuid.uuid4()}")

    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert 'id="error"' in missing.text and "找不到" in missing.text
    assert 'action="/admin/logout"' in missing.text


async def test_a_malformed_address_is_a_readable_page_not_json(community: Community, web: httpx.AsyncClient) -> None:
    await staff_signed_in(community, web)

    malformed = await web.get("/admin/?unit=not-a-unit")

    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("text/html")
    assert "填写有误" in malformed.text


async def test_a_refused_form_offers_the_language_switch_on_a_page_that_exists(
    community: Community, web: httpx.AsyncClient
) -> None:
    unit, token = await staff_signed_in(community, web)

    refused = await web.post("/admin/evaluations", data={"org_unit_id": unit, "_csrf_token": token})

    assert 'href="/admin/?lang=en"' in refused.text


async def test_every_page_answer_carries_the_security_headers(web: httpx.AsyncClient) -> None:
    for page in PAGES:
        answer = await web.get(page.sign_in_path)

        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "script-src" not in answer.headers["content-security-policy"]  # default-src 'self': no inline
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "no-store" in answer.headers["cache-control"]


async def test_a_refused_action_goes_back_and_says_why(community: Community, web: httpx.AsyncClient) -> None:
    unit, token = await staff_signed_in(community, web)
    post = await create_post(community.admin, unit, await community.rule(points=10, category="duty", unit="hour"))
    _, phone = await member_phone(community, unit, "李认领")
    claim = (await phone.post(f"/api/v1/posts/{post['id']}/claims")).json()
    form = {"back": f"/admin/posts/{post['id']}", "_csrf_token": token}

    approved = await web.post(f"/admin/post-claims/{claim['id']}/approve", data=form)
    done = await web.get(approved.headers["location"])
    again = await web.post(f"/admin/post-claims/{claim['id']}/approve", data=form)
    refused = await web.get(again.headers["location"])

    assert (approved.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == f"/admin/posts/{post['id']}"
    assert 'id="approve_done"' in done.text and "已批准" in done.text
    assert 'id="error"' in refused.text and "该申请已处理过" in refused.text
