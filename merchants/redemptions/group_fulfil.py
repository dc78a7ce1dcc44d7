"""Fulfilments written by group commit: `POST /merchant/redemptions/fulfil` of concurrent clerks at
one merchant in one database transaction (points_service/database/group_commit.py says why), each
answered alone. Every fulfilment credits the merchant: one by one they queued on its account's row
lock, one request's transaction at a time; a batch takes one of the merchant's stripes once for all of
them (docs/ledger.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Response
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.redemptions.counter import CodeAtDesk
from merchants.redemptions.schemas import FulfilledRedemption
from merchants.redemptions.service import RedemptionService
from points_service.database.group_commit import GroupCommit
from points_service.deps import ledger_for
from points_service.idempotency.service import REPLAY, KeyClaim, claim_each, record_each, respond


@dataclass(frozen=True)
class ClerkFulfil:
    """One clerk's `POST /merchant/redemptions/fulfil`, waiting to be written with others."""

    tenant_id: uuid.UUID
    merchant_id: uuid.UUID
    code: CodeAtDesk
    claim: KeyClaim | None = None


FulfilBatches = GroupCommit[ClerkFulfil, "FulfilledRedemption | str"]


def fulfil_batches(state: State) -> FulfilBatches:
    async def write(session: AsyncSession, key: Any, items: list[ClerkFulfil]) -> list[Any]:
        tenant_id, merchant_id = key
        ledger = await ledger_for(state, session, tenant_id, actor_account_id=None)
        redemptions = RedemptionService(session, tenant_id, ledger, state.side_session_factory, ledger.clock)
        claims = [item.claim for item in items]
        going = await claim_each(session, tenant_id, claims)
        answers: list[Any] = [None if ahead else REPLAY for ahead in going]
        positions = [index for index, ahead in enumerate(going) if ahead]
        fulfilled = await redemptions.fulfil_each(merchant_id, [items[index].code for index in positions])
        for index, answer in zip(positions, fulfilled, strict=True):
            answers[index] = answer
        await record_each(session, tenant_id, claims, answers, going, status=200)
        return answers

    # Batches per merchant: a batch locks a stripe of one merchant's, and shops never wait on each other.
    return GroupCommit(state.session_factory, write, name="fulfilments")


async def fulfil(state: State, item: ClerkFulfil) -> Response[FulfilledRedemption]:
    """Hand one code's reward over with whatever others are waiting at its merchant; its answer, or
    the stored answer of its Idempotency-Key. A refusal raises."""
    batches: FulfilBatches = state.fulfil_batches
    answer = await batches.submit((item.tenant_id, item.merchant_id), item)
    return await respond(answer, item.claim, item.tenant_id, state.read_session_factory, status=200)
