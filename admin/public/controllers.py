"""The 公示 board and its JSON, open to anyone and limited per address; a member's own results as JSON
and as a screen of the member page."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date as Day
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from admin.evaluations.metrics import METRICS
from admin.evaluations.schemas import MyEvaluations, PublicEvaluations, PublicSeal
from admin.public.service import month_board, my_evaluations, public_unit, published_evaluations
from points_service.auth.guards import require_member
from points_service.auth.principal import Principal
from points_service.auth.rate_limit import FailureLimiter
from points_service.errors import NotFound, TooManyAttempts
from points_service.ledger.seals import latest_seal, seal_on
from points_service.mobile.page import MEMBER_PAGE
from points_service.openapi import REFUSALS
from points_service.qr import qr_svg
from points_service.tenancy.service import member_ranking, tenant_clock

# Per address and minute. A building's residents often share one address (the same Wi-Fi or carrier
# gateway), so the limit is well above the 60 a minute that must always be served.
PUBLIC_CALLS_PER_MINUTE = 120

# The board's one script: print when opened with ?print=1, and the print button. Allowed by its hash.
BOARD_SCRIPT = (
    "document.getElementById('print').addEventListener('click',function(){window.print()});"
    "if(new URLSearchParams(location.search).get('print')==='1'){window.print()}"
)
BOARD_SCRIPT_HASH = base64.b64encode(hashlib.sha256(BOARD_SCRIPT.encode()).digest()).decode()
BOARD_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"script-src 'sha256-{BOARD_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # Published evaluations never change, but a new one may be published: a minute of caching.
    "Cache-Control": "public, max-age=60",
}


class TooManyPublicCalls(TooManyAttempts):
    title = "Too many requests from this address"


async def count_public_call(request: Request[Any, Any, Any], state: State) -> None:
    address = request.client.host if request.client else "unknown"
    try:
        await FailureLimiter(state.limits_redis, window_seconds=60).take(
            [(f"public-calls:{address}", PUBLIC_CALLS_PER_MINUTE)]
        )
    except TooManyAttempts as refused:
        raise TooManyPublicCalls(refused.retry_after) from None


class PublicBoardPage(Controller):
    path = "/public/units"
    include_in_schema = False

    @get("/{org_unit_id:uuid}", name="public:board")
    async def board(
        self, org_unit_id: uuid.UUID, request: Request[Any, Any, Any], db_session: AsyncSession, state: State
    ) -> Template:
        await count_public_call(request, state)
        try:
            unit = await public_unit(db_session, org_unit_id)
        except NotFound:
            return Template(template_name="public/not_found.html", status_code=404, headers=BOARD_HEADERS)
        clock = await tenant_clock(db_session, unit.tenant_id)
        today = clock.today()
        ranking_public = await member_ranking(db_session, unit.tenant_id) == "public"
        address = str(request.url.with_replacements(query=""))
        return Template(
            template_name="public/board.html",
            context={
                "unit": unit,
                "evaluations": await published_evaluations(db_session, unit),
                "board": await month_board(db_session, unit, today) if ranking_public else None,
                "month": today.strftime("%Y-%m"),
                "today": today,
                "seal": await latest_seal(db_session, unit.tenant_id),
                "address": address,
                "qr": qr_svg(address),
                "script": BOARD_SCRIPT,
                "grade_words": GRADE_WORDS,
            },
            headers=BOARD_HEADERS,
        )


GRADE_WORDS = {
    "excellent": ("优秀", "Excellent"),
    "qualified": ("合格", "Qualified"),
    "basically_qualified": ("基本合格", "Basically qualified"),
    "unqualified": ("不合格", "Unqualified"),
}


class PublicApi(Controller):
    path = "/public/units"
    tags = ["public (公示)"]

    @get(
        "/{org_unit_id:uuid}/evaluations",
        security=[],
        summary="公示: a unit's published evaluations, names masked (no sign-in; limited per address)",
        opt={REFUSALS: (404, 429)},
    )
    async def evaluations(
        self, org_unit_id: uuid.UUID, request: Request[Any, Any, Any], db_session: AsyncSession, state: State
    ) -> PublicEvaluations:
        await count_public_call(request, state)
        unit = await public_unit(db_session, org_unit_id)
        return PublicEvaluations(await published_evaluations(db_session, unit))

    @get(
        "/{org_unit_id:uuid}/seal",
        security=[],
        summary="The daily seal of the unit's tenant: the day's ledger digest (no sign-in; limited per address)",
        opt={REFUSALS: (400, 404, 429)},
    )
    async def seal(
        self,
        org_unit_id: uuid.UUID,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        state: State,
        date: Annotated[Day | None, Parameter(description="YYYY-MM-DD; the latest sealed day when left out")] = None,
    ) -> PublicSeal:
        await count_public_call(request, state)
        unit = await public_unit(db_session, org_unit_id)
        day = date
        if day is None:
            latest = await latest_seal(db_session, unit.tenant_id)
            if latest is None:
                raise NotFound("No day is sealed yet")
            day = latest.day
        found = await seal_on(db_session, unit.tenant_id, day)
        if found is None:
            raise NotFound(f"{day} is not sealed (yet)")
        sealed, previous = found
        return PublicSeal(
            date=sealed.day, digest=sealed.digest, previous_digest=previous, transactions=sealed.transactions
        )


class MyEvaluationsController(Controller):
    path = "/me"
    tags = ["me"]
    guards = [require_member]

    @get("/evaluations", summary="The published evaluations I am in: rank, of how many, score, grade, metrics")
    async def mine(self, db_session: AsyncSession, principal: Principal) -> MyEvaluations:
        assert principal.member_id is not None
        return MyEvaluations(await my_evaluations(db_session, principal.tenant_id, principal.member_id))


ZH_CN = {
    "my_evaluations_title": "我的考评",
    "no_evaluations": "还没有已发布的考评包含你。考评发布后，你的名次、等次和得分会显示在这里。",
    "rank_of": "第 {rank} 名 / 共 {of} 人",
    "score_is": "得分 {score}",
    "grade_excellent": "优秀",
    "grade_qualified": "合格",
    "grade_basically_qualified": "基本合格",
    "grade_unqualified": "不合格",
    "no_value": "无数据（不计入）",
    "metrics_behind": "计分依据",
}
EN = {
    "my_evaluations_title": "My evaluations",
    "no_evaluations": "No published evaluation includes you yet. Once one is published, your rank, grade and "
    "score show here.",
    "rank_of": "Rank {rank} of {of}",
    "score_is": "Score {score}",
    "grade_excellent": "Excellent",
    "grade_qualified": "Qualified",
    "grade_basically_qualified": "Basically qualified",
    "grade_unqualified": "Unqualified",
    "no_value": "No data (not counted)",
    "metrics_behind": "What the score rests on",
}
METRIC_WORDS_EN = {
    "earned_points": "Points earned",
    "penalty_points": "Penalty points",
    "activities_attended": "Activities attended",
    "duty_hours": "Duty hours",
    "duty_attendance_rate": "Duty attendance rate",
    "micro_wishes_fulfilled": "Micro-wishes fulfilled",
    "reports_resolved": "Reports resolved",
    "feedback_score": "Service rating",
}
EVALUATIONS_PAGE = MEMBER_PAGE.with_words({"zh-CN": ZH_CN, "en": EN})


class MemberEvaluationsScreen(Controller):
    path = "/"

    @get("/evaluations", name="member_page:evaluations")
    async def evaluations(
        self, request: Request[Any, Any, Any], principal: Principal, db_session: AsyncSession
    ) -> Template:
        assert principal.member_id is not None
        lang, _ = EVALUATIONS_PAGE.language(request)
        labels = {name: metric.label if lang == "zh-CN" else METRIC_WORDS_EN[name] for name, metric in METRICS.items()}
        return EVALUATIONS_PAGE.render(
            request,
            "evaluations",
            tab="home",
            items=await my_evaluations(db_session, principal.tenant_id, principal.member_id),
            labels=labels,
        )
