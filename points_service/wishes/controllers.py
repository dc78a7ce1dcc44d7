"""Micro-wishes over HTTP. The resident's name is masked and their contact hidden for every member but
the one who holds the wish (they need to find the resident); staff see both."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post

from points_service.activities.schemas import ForMember, RuleCode
from points_service.auth.guards import member_or_staff, require_staff
from points_service.auth.principal import Principal
from points_service.idempotency.service import IdempotencyKey, IdempotentWrites
from points_service.ledger.schemas import posted_body
from points_service.ledger.service import LedgerService
from points_service.org.names import mask_name
from points_service.pagination import Cursor, Limit, decode_cursor, page
from points_service.wishes.models import Wish
from points_service.wishes.service import WishService

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=r"\S")]
WishStatus = Literal["open", "claimed", "fulfilled", "verified", "cancelled"]


class WishCreate(msgspec.Struct):
    org_unit_id: uuid.UUID
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    resident_name: Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"\S")]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    resident_contact: Annotated[str, msgspec.Meta(max_length=50)] | None = None
    # Staff only: the rule that pays it (members' wishes get theirs when staff verify).
    rule_code: RuleCode | None = None


class Fulfil(msgspec.Struct):
    note: Text
    member_id: uuid.UUID | None = None


class Verify(msgspec.Struct):
    rule_code: RuleCode | None = None


class Reason(msgspec.Struct):
    reason: Text


def wish_body(wish: Wish, viewer: Principal, unit_name: str | None = None) -> dict[str, Any]:
    sees_resident = viewer.role in ("staff", "admin") or (
        viewer.member_id is not None and wish.claimed_by == viewer.member_id
    )
    return {
        "id": wish.id,
        "org_unit_id": wish.org_unit_id,
        "org_unit_name": unit_name,
        "title": wish.title,
        "description": wish.description,
        "resident_name": wish.resident_name if sees_resident else mask_name(wish.resident_name),
        "resident_contact": wish.resident_contact if sees_resident else None,
        "status": wish.status,
        "claimed_by": wish.claimed_by,
        "claimed_at": wish.claimed_at,
        "fulfilment_note": wish.fulfilment_note,
        "fulfilled_at": wish.fulfilled_at,
        "verified_at": wish.verified_at,
        "transaction_id": wish.transaction_id,
        "created_at": wish.created_at,
    }


class WishController(Controller):
    path = "/wishes"
    tags = ["micro-wishes"]

    @post(
        "/", guards=[member_or_staff], summary="Post a resident's wish (staff in their subtree, members in their unit)"
    )
    async def create(self, data: WishCreate, wishes: WishService, principal: Principal) -> dict[str, Any]:
        fields = {
            "org_unit_id": data.org_unit_id,
            "title": data.title.strip(),
            "description": data.description,
            "resident_name": data.resident_name.strip(),
            "resident_contact": data.resident_contact,
        }
        return wish_body(await wishes.post(fields, data.rule_code), principal)

    @get("/", guards=[member_or_staff], summary="Wishes a member may take up (or holds), or a staff subtree's")
    async def list_wishes(
        self,
        wishes: WishService,
        principal: Principal,
        status: WishStatus | None = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> dict[str, Any]:
        rows = await wishes.listed(status, limit, decode_cursor(cursor))
        items = [wish_body(wish, principal, unit) for wish, unit in rows]
        return page(items, limit, key=lambda item: (item["created_at"], item["id"]))

    @get("/{wish_id:uuid}", guards=[member_or_staff], summary="One wish")
    async def read(self, wish_id: uuid.UUID, wishes: WishService, principal: Principal) -> dict[str, Any]:
        return wish_body(await wishes.visible(wish_id), principal)

    @post("/{wish_id:uuid}/claim", status_code=200, guards=[member_or_staff], summary="Claim: one member at a time")
    async def claim(
        self, wish_id: uuid.UUID, wishes: WishService, principal: Principal, data: ForMember | None = None
    ) -> dict[str, Any]:
        return wish_body(await wishes.claim(wish_id, data.member_id if data else None), principal)

    @post("/{wish_id:uuid}/release", status_code=200, guards=[member_or_staff], summary="Give a claimed wish back")
    async def release(
        self, wish_id: uuid.UUID, wishes: WishService, principal: Principal, data: ForMember | None = None
    ) -> dict[str, Any]:
        return wish_body(await wishes.release(wish_id, data.member_id if data else None), principal)

    @post("/{wish_id:uuid}/fulfil", status_code=200, guards=[member_or_staff], summary="Mark fulfilled, with a note")
    async def fulfil(
        self, wish_id: uuid.UUID, data: Fulfil, wishes: WishService, principal: Principal
    ) -> dict[str, Any]:
        return wish_body(await wishes.fulfil(wish_id, data.note, data.member_id), principal)

    @post(
        "/{wish_id:uuid}/verify",
        guards=[require_staff],
        summary="Verify a fulfilled wish: its member is paid once under the wish's rule (idem)",
    )
    async def verify(
        self,
        wish_id: uuid.UUID,
        request: Request,
        wishes: WishService,
        ledger: LedgerService,
        idempotent: IdempotentWrites,
        principal: Principal,
        data: Verify | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        body = data or Verify()

        async def verify() -> dict[str, Any]:
            wish, posted = await wishes.verify(wish_id, body.rule_code, ledger)
            return {**wish_body(wish, principal), **posted_body(posted)}

        return await idempotent.run(idempotency_key, request.url.path, body, verify, status=200)

    @post(
        "/{wish_id:uuid}/send-back",
        status_code=200,
        guards=[require_staff],
        summary="Not fulfilled yet: back to the member who holds it, with the reason",
    )
    async def send_back(
        self, wish_id: uuid.UUID, data: Reason, wishes: WishService, principal: Principal
    ) -> dict[str, Any]:
        return wish_body(await wishes.send_back(wish_id, data.reason), principal)

    @post("/{wish_id:uuid}/cancel", status_code=200, guards=[require_staff], summary="Withdraw an open or claimed wish")
    async def cancel(self, wish_id: uuid.UUID, wishes: WishService, principal: Principal) -> dict[str, Any]:
        return wish_body(await wishes.cancel(wish_id), principal)
