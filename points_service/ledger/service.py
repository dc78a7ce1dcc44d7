"""The ledger service: the only code that changes points (docs/ledger.md).

`LedgerService` is the one door callers use. Its use cases live by responsibility: awards,
penalties, adjustments and reversals in `awards.py`; redemption holds, releases and fulfilment in
`holds.py`; balances and history lines in `balances.py`; every change is written by the one writer,
`_post` in `postings.py`, which locks nothing itself and checks balances and caps under the locks
each use case took (sorted ids, one statement).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from points_service.ledger.awards import (
    MAX_BULK_MEMBERS,
    MAX_QUANTITY,
    AwardItem,
    AwardPostings,
    CallerAward,
    award_points,
)
from points_service.ledger.balances import Balance, HistoryLine, member_balance
from points_service.ledger.holds import RedemptionHold, RedemptionPostings, RedemptionSettlement
from points_service.ledger.models import MERCHANT_STRIPES
from points_service.ledger.postings import EarnedChange, Posted, Posting, PublishEarned
from points_service.ledger.repository import LedgerRepository
from points_service.tenancy.periods import TenantClock

__all__ = [
    "MAX_BULK_MEMBERS",
    "MAX_QUANTITY",
    "AwardItem",
    "Balance",
    "CallerAward",
    "EarnedChange",
    "HistoryLine",
    "LedgerService",
    "Posted",
    "Posting",
    "PublishEarned",
    "RedemptionHold",
    "RedemptionSettlement",
    "award_points",
    "member_balance",
]


class LedgerService(AwardPostings, RedemptionPostings):
    @classmethod
    def in_session(
        cls,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        clock: TenantClock,
        actor_account_id: uuid.UUID | None = None,
    ) -> LedgerService:
        """A tenant's ledger writing in `session`'s transaction, publishing nothing (for work that
        changes no earned points, or publishes on its own)."""
        return cls(LedgerRepository(session, tenant_id), clock, actor_account_id)

    # -- accounts ---------------------------------------------------------------------------------

    async def open_tenant_accounts(self) -> None:
        if await self._repo.system_account_id("issuance") is None:
            await self._repo.add_accounts([{"id": uuid.uuid4(), "kind": "issuance"}])

    async def open_member_accounts(self, member_id: uuid.UUID) -> None:
        await self._repo.add_accounts(
            [{"id": uuid.uuid4(), "kind": kind, "member_id": member_id} for kind in ("member_available", "member_held")]
        )

    async def open_merchant_account(self, merchant_id: uuid.UUID) -> None:
        await self._repo.add_accounts(
            [
                {"id": uuid.uuid4(), "kind": "merchant", "merchant_id": merchant_id, "stripe": stripe}
                for stripe in range(MERCHANT_STRIPES)
            ]
        )

    # -- reading ----------------------------------------------------------------------------------

    async def history(
        self, member_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[HistoryLine]:
        # Callers have checked the member exists and is theirs to see; an unknown one has no lines.
        rows = await self._repo.history(member_id, limit, before)
        return [
            HistoryLine(
                row.id,
                row.created_at,
                int(row.amount),
                row.kind,
                row.rule_code,
                row.memo,
                int(row.held_amount),
                row.rule_name,
                row.rule_unit,
                row.quantity,
                row.source,
            )
            for row in rows
        ]
