"""The console's points (积分) screens: award one member or many (picked from a list, or a whole unit) by
rule, quantity and note, with a preview of what each gets before anything is paid; a member's balance and
lines with an adjustment and, for admins, a reversal, each with its reason; and the rules catalogue.

Every paying form carries an idempotency key made when the form was rendered, and pays through the same
idempotent writes as the staff API (points_service.idempotency): a double click or a form sent again
replays the first outcome instead of paying twice, and the page says so."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from admin.console.page import STAFF_PAGE, staff_action
from admin.console.work import Work, unit_asked, unit_choices
from admin.points.service import StaffPointsService
from points_service.errors import DomainError, Forbidden, InvalidInput
from points_service.idempotency.service import IdempotentWrites
from points_service.ledger.awards import MAX_BULK_MEMBERS, REVERSIBLE_KINDS
from points_service.ledger.service import award_points, member_balance
from points_service.mobile.page import stored_refusal
from points_service.org.models import Member
from points_service.org.names import mask_phone
from points_service.rules.models import RULE_CATEGORIES, RULE_UNITS, Rule
from points_service.web import Message, local_time

AnyRequest = Request[Any, Any, Any]
POINTS_PATH = "/admin/points"
RULES_PATH = "/admin/rules"
MEMBERS_SHOWN = 100
LINES_SHOWN = 50


def new_key() -> str:
    """One key per rendered form: sending that form twice is one payment."""
    return uuid.uuid4().hex


def quantity_of(form: Any) -> Decimal:
    try:
        quantity = Decimal(str(form.get("quantity") or "1").strip())
    except InvalidOperation as error:
        raise InvalidInput("quantity", "must be a number") from error
    if not quantity.is_finite() or not 0 < quantity <= 1000:
        raise InvalidInput("quantity", "must be greater than 0 and at most 1000")
    return quantity


def ids_of(values: list[Any]) -> list[uuid.UUID]:
    try:
        return list(dict.fromkeys(uuid.UUID(str(value)) for value in values if value))
    except ValueError as error:
        raise InvalidInput("member_id", "is not a member") from error


def rule_name_of(form: Any) -> str:
    name = str(form.get("name") or "").strip()[:200]
    if not name:
        raise InvalidInput("name", "must not be empty")
    return name


def note_of(form: Any) -> str | None:
    return str(form.get("note") or "").strip()[:500] or None


def staff_points(work: Work, ledger: Any) -> StaffPointsService:
    return StaffPointsService(work.staff, work.org, work.rules, ledger, work.db_session, work.state.redis)


def idempotent(work: Work) -> IdempotentWrites:
    return IdempotentWrites(work.db_session, work.staff.tenant_id, work.staff.account_id)


def key_of(form: Any) -> str | None:
    return str(form.get("key") or "").strip() or None


async def paid_once(
    request: AnyRequest, work: Work, form: Any, body: dict[str, Any], action: Any, back: str, done: Any
) -> Redirect:
    """Run a paying `action` once per form key and go back to `back` saying what `done(answer)` says,
    or that this form was already sent (and nothing was paid twice), or why it was refused."""
    try:
        outcome = await idempotent(work).run(key_of(form), request.url.path, body, action)
    except DomainError as error:
        return STAFF_PAGE.redirect(request, back, STAFF_PAGE.refusal(request, error))
    if outcome.status_code >= 400:
        return STAFF_PAGE.redirect(request, back, stored_refusal(STAFF_PAGE, request, outcome))
    message: Message = done(outcome.content)
    if outcome.headers.get("Idempotent-Replayed") == "true":
        message = Message.done(f"{message.key}_again", **message.args)
    return STAFF_PAGE.redirect(request, back, message)


async def members_named(work: Work, member_ids: list[uuid.UUID]) -> list[Member]:
    """The members, each in the caller's reach (else 404), in the order given."""
    found = await work.org.members_in_reach(member_ids)
    return [found[member_id] for member_id in member_ids]


class ConsolePoints(Controller):
    path = "/points"

    @get("/", name="console:points")
    async def award_form(
        self,
        request: AnyRequest,
        work: Work,
        q: str | None = None,
        unit: str | None = None,
        member: uuid.UUID | None = None,
    ) -> Template:
        chosen, units = await unit_choices(work, unit_asked(unit))
        if member is not None:
            # "Award" from a member's own points page: that member alone, already ticked.
            found = [await work.org.member_in_reach(member)]
        else:
            found = await work.org.search_members(q, chosen.id if chosen else None, MEMBERS_SHOWN, None)
        unit_names = await work.records.units([member.org_unit_id for member in found[:MEMBERS_SHOWN]])
        return STAFF_PAGE.render(
            request,
            "points",
            rules=[rule for rule in await work.rules.all() if rule.is_active],
            chosen=chosen,
            units=units,
            q=q or "",
            members=[
                {"member": member, "unit": unit_names[member.org_unit_id].name, "phone": mask_phone(member.phone)}
                for member in found[:MEMBERS_SHOWN]
            ],
            more=len(found) > MEMBERS_SHOWN,
            ticked=member,
        )

    @post("/preview", name="console:points_preview")
    async def preview(self, request: AnyRequest, work: Work) -> Response[Any]:
        form = await request.form()
        try:
            rule = await work.rules.by_code(str(form.get("rule_code") or ""))
            quantity = quantity_of(form)
            points = award_points(rule, quantity)
            whole_unit = unit_asked(str(form.get("whole_unit") or ""))
            if whole_unit is not None:
                everyone = await work.org.search_members(None, whole_unit, MAX_BULK_MEMBERS, None)
                if len(everyone) > MAX_BULK_MEMBERS:
                    raise InvalidInput("whole_unit", f"more than {MAX_BULK_MEMBERS} members")
                members = everyone
            else:
                members = await members_named(work, ids_of(form.getall("member_id", [])))
            if not members:
                raise InvalidInput("member_id", "nobody chosen")
        except DomainError as error:
            return STAFF_PAGE.redirect(request, POINTS_PATH, STAFF_PAGE.refusal(request, error))
        unit_names = await work.records.units([member.org_unit_id for member in members])
        return STAFF_PAGE.render(
            request,
            "points_preview",
            rule=rule,
            quantity=quantity,
            note=note_of(form),
            points=points,
            total=points * len(members),
            rows=[{"member": member, "unit": unit_names[member.org_unit_id].name} for member in members],
            key=new_key(),
            page_path=POINTS_PATH,
        )

    @post("/award", name="console:points_award")
    async def award(self, request: AnyRequest, work: Work) -> Redirect:
        form = await request.form()
        member_ids = ids_of(form.getall("member_id", []))
        rule_code, note = str(form.get("rule_code") or ""), note_of(form)
        try:
            quantity = quantity_of(form)
        except DomainError as error:
            return STAFF_PAGE.redirect(request, POINTS_PATH, STAFF_PAGE.refusal(request, error))
        body = {"rule_code": rule_code, "member_ids": [str(m) for m in member_ids], "quantity": str(quantity)}
        ledger = await work.ledger()

        async def pay() -> Any:
            return await staff_points(work, ledger).bulk_award(member_ids, rule_code, quantity, note)

        def done(answer: Any) -> Message:
            return Message.done("awarded", count=int(answer["count"]), points=int(answer["points_total"]))

        return await paid_once(request, work, form, {**body, "note": note}, pay, POINTS_PATH, done)

    @get("/members/{member_id:uuid}", name="console:member_points")
    async def member_points(self, request: AnyRequest, member_id: uuid.UUID, work: Work) -> Template:
        member = await work.org.member_in_reach(member_id)
        ledger = await work.ledger()
        lines = await ledger.history(member_id, LINES_SHOWN, None)
        names = {rule.code: rule.name for rule in await work.rules.all()}
        units = await work.records.units([member.org_unit_id])
        return STAFF_PAGE.render(
            request,
            "member_points",
            member=member,
            unit=units[member.org_unit_id],
            phone=mask_phone(member.phone),
            balance=await member_balance(work.state.read_pool, work.clock, work.staff.tenant_id, member_id),
            lines=[{"line": line, "rule": names.get(line.rule_code or "", "")} for line in lines],
            reversible=REVERSIBLE_KINDS,
            new_key=new_key,
            local=local_time(work.clock),
            page_path=f"{POINTS_PATH}/members/{member_id}",
        )

    @post("/members/{member_id:uuid}/adjust", name="console:adjust")
    async def adjust(self, request: AnyRequest, member_id: uuid.UUID, work: Work) -> Redirect:
        form = await request.form()
        back = f"{POINTS_PATH}/members/{member_id}"
        reason = str(form.get("reason") or "").strip()[:500]
        try:
            amount = int(str(form.get("amount") or "").strip())
        except ValueError:
            return STAFF_PAGE.redirect(request, back, Message.error("amount_invalid"))
        ledger = await work.ledger()

        async def pay() -> Any:
            return await staff_points(work, ledger).adjust(member_id, amount, reason)

        def done(answer: Any) -> Message:
            return Message.done("adjusted", points=int(answer["points"]), balance=int(answer["balance"]))

        body = {"member_id": str(member_id), "amount": amount, "reason": reason}
        return await paid_once(request, work, form, body, pay, back, done)

    @post("/transactions/{transaction_id:uuid}/reverse", name="console:reverse")
    async def reverse(self, request: AnyRequest, transaction_id: uuid.UUID, work: Work) -> Redirect:
        form = await request.form()
        member = unit_asked(str(form.get("member_id") or ""))
        back = f"{POINTS_PATH}/members/{member}" if member else POINTS_PATH
        reason = str(form.get("reason") or "").strip()[:500]
        ledger = await work.ledger()

        async def pay() -> Any:
            return await staff_points(work, ledger).reverse(transaction_id, reason)

        def done(answer: Any) -> Message:
            return Message.done("reversed", points=int(answer["points"]), balance=int(answer["balance"]))

        return await paid_once(request, work, form, {"reason": reason}, pay, back, done)


# -- the rules catalogue ------------------------------------------------------------------------------


def cap_of(form: Any, name: str) -> int | None:
    value = str(form.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as error:
        raise InvalidInput(name, "must be a whole number of points") from error


def admin_only(work: Work) -> None:
    if not work.staff.is_admin:
        raise Forbidden("Only a tenant admin changes the rules")


class ConsoleRules(Controller):
    path = "/rules"

    @get("/", name="console:rules")
    async def listed(self, request: AnyRequest, work: Work) -> Template:
        rules: list[Rule] = await work.rules.all()
        rules.sort(key=lambda rule: (not rule.is_active, rule.category, rule.name))
        return STAFF_PAGE.render(
            request,
            "rules",
            rules=rules,
            categories=RULE_CATEGORIES,
            units=RULE_UNITS,
            # A new rule's code is made with the form, so the same form sent twice is refused as a duplicate.
            new_code=f"R{uuid.uuid4().hex[:12].upper()}",
            back=RULES_PATH,
        )

    @post("/", name="console:create_rule")
    async def create(self, request: AnyRequest, work: Work) -> Redirect:
        async def create(form: Any) -> None:
            admin_only(work)
            name = rule_name_of(form)
            category = str(form.get("category") or "")
            unit = str(form.get("unit") or "each")
            if category not in RULE_CATEGORIES or unit not in RULE_UNITS:
                raise InvalidInput("category", "is not one of the categories")
            try:
                points = int(str(form.get("points") or "").strip())
            except ValueError as error:
                raise InvalidInput("points", "must be a whole number") from error
            code = str(form.get("code") or "").strip()[:64] or f"R{uuid.uuid4().hex[:12].upper()}"
            await work.rules.create(
                code,
                name,
                category,
                points,
                unit,
                cap_of(form, "daily_cap"),
                cap_of(form, "monthly_cap"),
                form.get("requires_approval") == "on",
            )

        return await staff_action(request, work.db_session, create, RULES_PATH, "rule_created")

    @post("/{rule_id:uuid}/change", name="console:change_rule")
    async def change(self, request: AnyRequest, rule_id: uuid.UUID, work: Work) -> Redirect:
        async def change(form: Any) -> None:
            admin_only(work)
            name = rule_name_of(form)
            await work.rules.change(
                rule_id,
                name,
                cap_of(form, "daily_cap"),
                cap_of(form, "monthly_cap"),
                form.get("requires_approval") == "on",
            )

        return await staff_action(request, work.db_session, change, RULES_PATH, "rule_changed")

    @post("/{rule_id:uuid}/switch-off", name="console:switch_off_rule")
    async def switch_off(self, request: AnyRequest, rule_id: uuid.UUID, work: Work) -> Redirect:
        async def off(form: Any) -> None:
            admin_only(work)
            await work.rules.switch(rule_id, False)

        return await staff_action(request, work.db_session, off, RULES_PATH, "rule_switched_off")

    @post("/{rule_id:uuid}/switch-on", name="console:switch_on_rule")
    async def switch_on(self, request: AnyRequest, rule_id: uuid.UUID, work: Work) -> Redirect:
        async def on(form: Any) -> None:
            admin_only(work)
            await work.rules.switch(rule_id, True)

        return await staff_action(request, work.db_session, on, RULES_PATH, "rule_switched_on")


POINTS_CONTROLLERS = [ConsolePoints, ConsoleRules]
