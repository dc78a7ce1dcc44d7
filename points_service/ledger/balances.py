"""What a member sees of the ledger: the balance and the history lines."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from points_service.database.reads import ReadPool
from points_service.errors import NotFound
from points_service.ledger.repository import read_balance
from points_service.tenancy.periods import TenantClock, month_start, year_start


@dataclass(frozen=True)
class Balance:
    available: int
    held: int
    earned_total: int
    earned_this_month: int
    earned_this_year: int


@dataclass(frozen=True)
class HistoryLine:
    transaction_id: uuid.UUID
    at: datetime
    amount: int
    kind: str
    rule_code: str | None
    memo: str | None
    # What explains the line (ledger/explain.py): the change of held points (a fulfilment moves only
    # those), the rule's name, unit and the quantity paid, and the work it paid for (`wish:<id>`).
    held_amount: int = 0
    rule_name: str | None = None
    rule_unit: str | None = None
    quantity: Decimal | None = None
    source: str | None = None


async def member_balance(pool: ReadPool, clock: TenantClock, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Balance:
    """A member's balance, read on the hot-read pool (points_service/database/reads.py says why)."""
    today = clock.today()
    found = await read_balance(pool, tenant_id, member_id, month_start(today), year_start(today))
    if found is None:
        raise NotFound(f"No such member: {member_id}")
    return Balance(*found)
