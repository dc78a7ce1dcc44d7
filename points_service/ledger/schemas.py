from __future__ import annotations

from typing import Any

from points_service.ledger.service import HistoryLine, Posted
from points_service.pagination import page


def ledger_page(lines: list[HistoryLine], limit: int) -> dict[str, Any]:
    items = [
        {
            "transaction_id": line.transaction_id,
            "at": line.at,
            "amount": line.amount,
            "kind": line.kind,
            "rule_code": line.rule_code,
            "memo": line.memo,
        }
        for line in lines
    ]
    return page(items, limit, key=lambda item: (item["at"], item["transaction_id"]))


def posted_body(posted: Posted) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_id": posted.transaction_id,
        "member_id": posted.member_id,
        "points": posted.points,
        "balance": posted.balance,
    }
    if posted.reverses is not None:
        body["reverses"] = posted.reverses
    return body
