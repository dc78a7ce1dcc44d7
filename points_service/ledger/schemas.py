"""What goes over the wire about points: ledger lines and the answer of a posted transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import msgspec

from points_service.ledger.balances import HistoryLine
from points_service.ledger.explain import description
from points_service.ledger.models import TransactionKind
from points_service.ledger.postings import Posted
from points_service.pagination import next_page


class LedgerLine(msgspec.Struct):
    transaction_id: uuid.UUID
    at: datetime
    # The change of `available`: a fulfilment moves held points, so its amount is 0.
    amount: int
    kind: TransactionKind
    rule_code: str | None
    memo: str | None
    # What the line was for, in words (Chinese): the rule with its hours or quantity and the work's
    # note; a hold, release or fulfilment said plainly (a fulfilment by the held points it used).
    description: str


class LedgerPage(msgspec.Struct):
    items: list[LedgerLine]
    next_cursor: str | None


class PointsPosted(msgspec.Struct):
    """A transaction just written: `points` is the signed change of the member's available balance,
    `balance` the available balance right after it."""

    transaction_id: uuid.UUID
    member_id: uuid.UUID
    points: int
    balance: int
    # Only on a reversal: the transaction it undoes.
    reverses: uuid.UUID | msgspec.UnsetType = msgspec.UNSET


def ledger_page(lines: list[HistoryLine], limit: int) -> LedgerPage:
    items = [
        LedgerLine(
            line.transaction_id,
            line.at,
            line.amount,
            cast(TransactionKind, line.kind),
            line.rule_code,
            line.memo,
            description(line),
        )
        for line in lines
    ]
    return LedgerPage(*next_page(items, limit, key=lambda item: (item.at, item.transaction_id)))


def points_posted(posted: Posted) -> PointsPosted:
    return PointsPosted(
        posted.transaction_id,
        posted.member_id,
        posted.points,
        posted.balance,
        msgspec.UNSET if posted.reverses is None else posted.reverses,
    )
