from __future__ import annotations

import uuid
from decimal import Decimal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State

from admin.points import group_awards
from admin.points.group_awards import StaffAward
from admin.points.schemas import AdjustmentRequest, AwardRequest, BulkAwarded, BulkAwardRequest, ReverseRequest
from admin.points.service import StaffPointsService
from points_service.auth.guards import guarded_post, require_admin
from points_service.auth.principal import Principal
from points_service.idempotency.service import IdempotencyKey, IdempotentWrites, KeyClaim
from points_service.ledger.schemas import LedgerPage, PointsPosted, ledger_page
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService
from points_service.pagination import Cursor, Limit, decode_cursor


def _quantity(value: float) -> Decimal:
    # Through str, so 1.5 stays 1.5 rather than its binary neighbour.
    return Decimal(str(value))


class PointsController(Controller):
    tags = ["admin: points"]

    @guarded_post("/awards", summary="Award points by rule (idem)")
    async def award(
        self,
        data: AwardRequest,
        request: Request,
        principal: Principal,
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PointsPosted]:
        # Written by group commit with concurrent awards (admin/points/group_awards.py).
        claim = (
            None
            if idempotency_key is None
            else KeyClaim.of(principal.account_id, idempotency_key, request.url.path, data)
        )
        award = StaffAward(principal, data.member_id, data.rule_code, _quantity(data.quantity), data.note, claim)
        return await group_awards.award(state, award)

    @post("/awards/bulk", summary="Award one rule to up to 1,000 members, all or nothing (idem)")
    async def bulk_award(
        self,
        data: BulkAwardRequest,
        request: Request,
        staff_points: StaffPointsService,
        idempotent: IdempotentWrites,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BulkAwarded]:
        return await idempotent.run(
            idempotency_key,
            request.url.path,
            data,
            lambda: staff_points.bulk_award(data.member_ids, data.rule_code, _quantity(data.quantity), data.note),
        )

    @post("/adjustments", summary="Adjust a balance, with a reason (idem)")
    async def adjust(
        self,
        data: AdjustmentRequest,
        request: Request,
        staff_points: StaffPointsService,
        idempotent: IdempotentWrites,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PointsPosted]:
        return await idempotent.run(
            idempotency_key,
            request.url.path,
            data,
            lambda: staff_points.adjust(data.member_id, data.amount, data.reason),
        )

    @post(
        "/transactions/{transaction_id:uuid}/reverse",
        guards=[require_admin],
        summary="Reverse a transaction (admins only, idem)",
    )
    async def reverse(
        self,
        transaction_id: uuid.UUID,
        data: ReverseRequest,
        request: Request,
        staff_points: StaffPointsService,
        idempotent: IdempotentWrites,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PointsPosted]:
        return await idempotent.run(
            idempotency_key, request.url.path, data, lambda: staff_points.reverse(transaction_id, data.reason)
        )

    @get("/members/{member_id:uuid}/ledger", summary="A member's ledger lines, newest first")
    async def member_ledger(
        self, member_id: uuid.UUID, org: OrgService, ledger: LedgerService, limit: Limit = 50, cursor: Cursor = None
    ) -> LedgerPage:
        await org.member_in_reach(member_id)
        return ledger_page(await ledger.history(member_id, limit + 1, decode_cursor(cursor)), limit)
