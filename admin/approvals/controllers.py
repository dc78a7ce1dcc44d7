from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import Parameter

from admin.approvals.providers import PendingItem
from admin.approvals.service import ApprovalQueue
from points_service.pagination import Cursor, Limit, decode_cursor, page


def item_body(item: PendingItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "created_at": item.created_at,
        "member": {"id": item.member_id, "name": item.member_name} if item.member_id is not None else None,
        "unit": {"id": item.unit_id, "name": item.unit_name},
        "summary": item.summary,
        "link": item.link,
    }


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
    ) -> dict[str, Any]:
        items = await approvals.pending(kind, limit, decode_cursor(cursor))
        return page([item_body(item) for item in items], limit, key=lambda body: (body["created_at"], body["id"]))
