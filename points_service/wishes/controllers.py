"""Micro-wishes over HTTP (what each viewer sees of the resident: wishes/schemas.py)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post

from points_service.activities.schemas import ForMember
from points_service.auth.guards import member_or_staff, require_staff
from points_service.auth.principal import Principal
from points_service.idempotency.service import IdempotencyKey, IdempotentWrites
from points_service.ledger.service import LedgerService
from points_service.pagination import Cursor, Limit, decode_cursor, next_page
from points_service.wishes.schemas import (
    Fulfil,
    Reason,
    Verify,
    Wish,
    WishCreate,
    WishPage,
    WishPaid,
    WishStatus,
    wish_answer,
    wish_fields,
)
from points_service.wishes.service import WishService


class WishController(Controller):
    path = "/wishes"
    tags = ["micro-wishes"]

    @post(
        "/", guards=[member_or_staff], summary="Post a resident's wish (staff in their subtree, members in their unit)"
    )
    async def create(self, data: WishCreate, wishes: WishService, principal: Principal) -> Wish:
        fields = {
            "org_unit_id": data.org_unit_id,
            "title": data.title.strip(),
            "description": data.description,
            "resident_name": data.resident_name.strip(),
            "resident_contact": data.resident_contact,
        }
        return wish_answer(await wishes.post(fields, data.rule_code), principal)

    @get("/", guards=[member_or_staff], summary="Wishes a member may take up (or holds), or a staff subtree's")
    async def list_wishes(
        self,
        wishes: WishService,
        principal: Principal,
        status: WishStatus | None = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> WishPage:
        rows = await wishes.listed(status, limit, decode_cursor(cursor))
        items = [wish_answer(wish, principal, unit) for wish, unit in rows]
        return WishPage(*next_page(items, limit, key=lambda item: (item.created_at, item.id)))

    @get("/{wish_id:uuid}", guards=[member_or_staff], summary="One wish")
    async def read(self, wish_id: uuid.UUID, wishes: WishService, principal: Principal) -> Wish:
        return wish_answer(await wishes.visible(wish_id), principal)

    @post("/{wish_id:uuid}/claim", status_code=200, guards=[member_or_staff], summary="Claim: one member at a time")
    async def claim(
        self, wish_id: uuid.UUID, wishes: WishService, principal: Principal, data: ForMember | None = None
    ) -> Wish:
        return wish_answer(await wishes.claim(wish_id, data.member_id if data else None), principal)

    @post("/{wish_id:uuid}/release", status_code=200, guards=[member_or_staff], summary="Give a claimed wish back")
    async def release(
        self, wish_id: uuid.UUID, wishes: WishService, principal: Principal, data: ForMember | None = None
    ) -> Wish:
        return wish_answer(await wishes.release(wish_id, data.member_id if data else None), principal)

    @post("/{wish_id:uuid}/fulfil", status_code=200, guards=[member_or_staff], summary="Mark fulfilled, with a note")
    async def fulfil(self, wish_id: uuid.UUID, data: Fulfil, wishes: WishService, principal: Principal) -> Wish:
        return wish_answer(await wishes.fulfil(wish_id, data.note, data.member_id), principal)

    @post(
        "/{wish_id:uuid}/verify",
        status_code=200,
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
    ) -> Response[WishPaid]:
        body = data or Verify()

        async def verify() -> WishPaid:
            wish, posted = await wishes.verify(wish_id, body.rule_code, ledger)
            fields = {**wish_fields(wish, principal), "transaction_id": posted.transaction_id}
            return WishPaid(**fields, member_id=posted.member_id, points=posted.points, balance=posted.balance)

        return await idempotent.run(idempotency_key, request.url.path, body, verify, status=200)

    @post(
        "/{wish_id:uuid}/send-back",
        status_code=200,
        guards=[require_staff],
        summary="Not fulfilled yet: back to the member who holds it, with the reason",
    )
    async def send_back(self, wish_id: uuid.UUID, data: Reason, wishes: WishService, principal: Principal) -> Wish:
        return wish_answer(await wishes.send_back(wish_id, data.reason), principal)

    @post("/{wish_id:uuid}/cancel", status_code=200, guards=[require_staff], summary="Withdraw an open or claimed wish")
    async def cancel(self, wish_id: uuid.UUID, wishes: WishService, principal: Principal) -> Wish:
        return wish_answer(await wishes.cancel(wish_id), principal)
