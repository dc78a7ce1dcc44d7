from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from admin.approvals.schemas import PendingPage, pending_body
from admin.approvals.service import ApprovalQueue
from points_service.pagination import Cursor, Limit, decode_cursor, next_page


class ApprovalController(Controller):
    path = "/approvals"
    tags = ["admin: approvals"]

    @get("/", summary="Everything waiting for a staff decision in the caller's subtree, oldest first")
    async def pending(
        self,
        approvals: ApprovalQueue,
        kind: Annotated[list[str] | None, Parameter(description="Only these kinds (repeatable)")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> PendingPage:
        items = await approvals.pending(kind, limit, decode_cursor(cursor))
        listed = [pending_body(item) for item in items]
        return PendingPage(*next_page(listed, limit, key=lambda body: (body.created_at, body.id)))
