"""The console's desk work beside the lists of work.py: creating duty posts, setting their holders and
scheduling weekly shifts; posting a micro-wish for a resident without a phone; appointing and removing
proxies (代办员) and reading what each did for whom; the approvals queue as a page with each item's
action. Every action is a CSRF-checked form that posts through the same services as the staff API, in a
savepoint, and returns to a page saying what was done or why it was refused."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from admin.approvals.service import ApprovalQueue
from admin.console.desk_records import DeskRecords
from admin.console.page import STAFF_PAGE, back_to
from admin.console.work import Work, chosen_rule, text_field, work_button
from points_service.claims.service import ClaimService
from points_service.duty.shifts import WeeklySchedule
from points_service.earning import earning_context
from points_service.errors import DomainError, InvalidInput
from points_service.proxies.service import ProxyService
from points_service.web import Message, local_time

AnyRequest = Request[Any, Any, Any]
WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)
# The seven posts a community runs (定岗定责定时), with their duty and usual time: created in one go for a
# community that starts, then each given holders and shifts.
SEVEN_POSTS = (
    ("文明监督岗", "劝导乱扔垃圾、乱停车等不文明行为", "每周六 9:00-11:00"),
    ("民事调解岗", "调解邻里纠纷，记录调解结果", "每周三 14:00-16:00"),
    ("环境卫生岗", "巡查楼道和公共区域卫生", "每周六 8:00-10:00"),
    ("安全信息岗", "巡查消防通道、电动车充电等安全隐患并上报", "每周五 19:00-21:00"),
    ("便民服务岗", "为老人代购代办、测血压、修小家电", "每周日 9:00-11:00"),
    ("敲门问帮岗", "走访独居老人和困难家庭，记录需求", "每周四 15:00-17:00"),
    ("移风易俗岗", "宣传婚事新办、丧事简办，劝导燃放烟花", "每月最后一个周六 9:00-11:00"),
)
QUEUE_SHOWN = 200


def form_id(form: Any, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(form.get(name) or ""))
    except ValueError as error:
        raise InvalidInput(name, "choose one from the list") from error


def optional_text(form: Any, name: str, limit: int) -> str:
    return str(form.get(name) or "").strip()[:limit]


async def act_then(request: AnyRequest, work: Work, fallback: str, action: Any) -> Redirect:
    """A staff action whose page to return to is known only once it is done (a new item's own page):
    `action(form)` returns (where to go, the message); a refusal returns to the form's page saying why."""
    form = await request.form()
    back = back_to(form, fallback)
    try:
        async with work.db_session.begin_nested():
            target, message = await action(form)
    except DomainError as error:
        return STAFF_PAGE.redirect(request, back, STAFF_PAGE.refusal(request, error))
    return STAFF_PAGE.redirect(request, target, message)


# -- duty posts -------------------------------------------------------------------------------------


class DeskPosts(Controller):
    path = "/posts"

    @post("/", name="console:create_post")
    async def create(self, request: AnyRequest, work: Work) -> Redirect:
        async def create(form: Any) -> tuple[str, Message]:
            created = await work.duty.create_post(
                form_id(form, "org_unit_id"),
                text_field(form, "name", 100),
                optional_text(form, "duty", 2000),
                optional_text(form, "schedule", 200),
                text_field(form, "rule_code", 64),
            )
            return f"/admin/posts/{created.id}", Message.done("post_created")

        return await act_then(request, work, "/admin/posts", create)

    @post("/seven", name="console:create_seven_posts")
    async def create_seven(self, request: AnyRequest, work: Work) -> Redirect:
        """The seven posts in one unit; those it already has are left as they are."""

        async def create(form: Any) -> tuple[str, Message]:
            unit_id, rule_code = form_id(form, "org_unit_id"), text_field(form, "rule_code", 64)
            await work.org.unit_in_reach(unit_id)
            # Skipped by name beforehand: a refused insert would end the savepoint the whole action runs in.
            existing = await DeskRecords(work.db_session, work.staff).post_names(unit_id)
            created = 0
            for name, duty, schedule in SEVEN_POSTS:
                if name not in existing:
                    await work.duty.create_post(unit_id, name, duty, schedule, rule_code)
                    created += 1
            return f"/admin/posts?unit={unit_id}", Message.done("seven_created", count=created)

        return await act_then(request, work, "/admin/posts", create)

    @post("/{post_id:uuid}/holders", name="console:set_holder")
    async def set_holder(self, request: AnyRequest, post_id: uuid.UUID, work: Work) -> Redirect:
        """Staff name a holder: the claim is filed for the member and approved in one step."""

        async def set_holder(form: Any) -> tuple[str, Message]:
            claim = await work.duty.claim_post(post_id, form_id(form, "member_id"))
            await work.duty.decide_post_claim(claim.id, True, None)
            return f"/admin/posts/{post_id}", Message.done("holder_set")

        return await act_then(request, work, f"/admin/posts/{post_id}", set_holder)

    @post("/{post_id:uuid}/shifts", name="console:schedule_shifts")
    async def schedule(self, request: AnyRequest, post_id: uuid.UUID, work: Work) -> Redirect:
        async def schedule(form: Any) -> tuple[str, Message]:
            try:
                weekday = int(str(form.get("weekday") or "0"))
                weeks = int(str(form.get("weeks") or "4"))
                start = time.fromisoformat(str(form.get("start_time") or ""))
                end = time.fromisoformat(str(form.get("end_time") or ""))
                first_day = work.clock.today()
                if form.get("first_day"):
                    first_day = first_day.fromisoformat(str(form.get("first_day")))
            except ValueError as error:
                raise InvalidInput("start_time", "times as HH:MM, the first day as YYYY-MM-DD") from error
            if weekday not in WEEKDAYS:
                raise InvalidInput("weekday", "1 (Monday) to 7 (Sunday)")
            windows = work.duty.weekly(WeeklySchedule(weekday, start, end, first_day, weeks))
            shifts = await work.duty.schedule(post_id, form_id(form, "member_id"), windows)
            return f"/admin/posts/{post_id}", Message.done("shifts_scheduled", count=len(shifts))

        return await act_then(request, work, f"/admin/posts/{post_id}", schedule)


POST_BUTTONS = [
    work_button(
        "/posts/{item_id:uuid}/close",
        "console:close_post",
        "/admin/posts",
        "post_closed",
        lambda work, post_id, _form: work.duty.set_active(post_id, False),
    ),
    work_button(
        "/posts/{item_id:uuid}/reopen",
        "console:reopen_post",
        "/admin/posts",
        "post_reopened",
        lambda work, post_id, _form: work.duty.set_active(post_id, True),
    ),
    work_button(
        "/post-claims/{item_id:uuid}/release",
        "console:release_holder",
        "/admin/posts",
        "holder_released",
        lambda work, claim_id, _form: work.duty.release(claim_id),
    ),
]


# -- micro-wishes -----------------------------------------------------------------------------------


class DeskWishes(Controller):
    path = "/wishes"

    @post("/", name="console:post_wish")
    async def create(self, request: AnyRequest, work: Work) -> Redirect:
        """A wish posted by staff for a resident, most often an elder with no phone of their own."""

        async def create(form: Any) -> tuple[str, Message]:
            fields = {
                "org_unit_id": form_id(form, "org_unit_id"),
                "title": text_field(form, "title", 200),
                "resident_name": text_field(form, "resident_name", 100),
                "resident_contact": optional_text(form, "resident_contact", 200) or None,
                "description": optional_text(form, "description", 2000) or None,
            }
            await work.wishes.post(fields, chosen_rule(form))
            return "/admin/wishes?status=open", Message.done("wish_posted")

        return await act_then(request, work, "/admin/wishes", create)


# -- claims (approvals queue) -----------------------------------------------------------------------


async def approve_claim(work: Work, claim_id: uuid.UUID, _form: Any) -> None:
    claims = ClaimService(earning_context(work.db_session, work.staff, work.clock))
    await claims.approve(claim_id, await work.ledger())


async def reject_claim(work: Work, claim_id: uuid.UUID, form: Any) -> None:
    claims = ClaimService(earning_context(work.db_session, work.staff, work.clock))
    await claims.reject(claim_id, text_field(form, "reason", 1000))


CLAIM_BUTTONS = [
    work_button(
        "/claims/{item_id:uuid}/approve", "console:approve_claim", "/admin/approvals", "approve_done", approve_claim
    ),
    work_button(
        "/claims/{item_id:uuid}/reject", "console:reject_claim", "/admin/approvals", "reject_done", reject_claim
    ),
]


# -- the approvals queue ----------------------------------------------------------------------------


class DeskApprovals(Controller):
    path = "/approvals"

    @get("/", name="console:approvals")
    async def queue(self, request: AnyRequest, work: Work, approvals: ApprovalQueue) -> Template:
        items = await approvals.pending(None, QUEUE_SHOWN, None)
        return STAFF_PAGE.render(
            request,
            "approvals",
            items=items[:QUEUE_SHOWN],
            more=len(items) > QUEUE_SHOWN,
            rules=[rule for rule in await work.rules.all() if rule.is_active and rule.points > 0],
            back="/admin/approvals",
            local=local_time(work.clock),
        )


# -- proxies (代办) ---------------------------------------------------------------------------------


class DeskProxies(Controller):
    path = "/proxies"

    @get("/", name="console:proxies")
    async def listed(self, request: AnyRequest, work: Work, q: str | None = None) -> Template:
        proxies = ProxyService(work.db_session, work.staff, work.org)
        appointments = (await proxies.listed(QUEUE_SHOWN, None))[:QUEUE_SHOWN]
        records = DeskRecords(work.db_session, work.staff)
        reach = await work.org.reach()
        units = await records.units_under(reach)
        names = await work.records.member_names(
            [appointment.proxy_member_id for appointment in appointments]
            + [appointment.member_id for appointment in appointments]
        )
        unit_names = {unit.id: unit.name for unit in units}
        named = (q or "").strip()[:50] or None
        members = await records.members_under(units[0].path, named) if units else []
        acts = await records.proxy_acts(sorted({appointment.proxy_member_id for appointment in appointments}))
        return STAFF_PAGE.render(
            request,
            "proxies",
            appointments=[
                {
                    "appointment": appointment,
                    "proxy": names.get(appointment.proxy_member_id, ""),
                    "member": names.get(appointment.member_id) if appointment.member_id else None,
                    "unit": unit_names.get(appointment.org_unit_id) if appointment.org_unit_id else None,
                }
                for appointment in appointments
            ],
            acts=acts,
            names=names,
            members=members,
            named=named or "",
            units=units,
            back="/admin/proxies",
            local=local_time(work.clock),
        )

    @post("/", name="console:appoint_proxy")
    async def appoint(self, request: AnyRequest, work: Work) -> Response[Any]:
        async def appoint(form: Any) -> tuple[str, Message]:
            proxies = ProxyService(work.db_session, work.staff, work.org)
            target = str(form.get("target") or "")
            member_id = form_id(form, "member_id") if target != "unit" else None
            unit_id = form_id(form, "org_unit_id") if target == "unit" else None
            await proxies.appoint(form_id(form, "proxy_member_id"), member_id, unit_id)
            return "/admin/proxies", Message.done("proxy_appointed")

        return await act_then(request, work, "/admin/proxies", appoint)


PROXY_BUTTONS = [
    work_button(
        "/proxies/{item_id:uuid}/remove",
        "console:remove_proxy",
        "/admin/proxies",
        "proxy_removed",
        lambda work, appointment_id, _form: ProxyService(work.db_session, work.staff, work.org).revoke(appointment_id),
    ),
]


DESK_CONTROLLERS = [
    DeskPosts,
    DeskWishes,
    DeskApprovals,
    DeskProxies,
    *POST_BUTTONS,
    *CLAIM_BUTTONS,
    *PROXY_BUTTONS,
]
