"""Redemptions written by group commit: `POST /me/redemptions` of concurrent members in one database
transaction (points_service/database/group_commit.py says why), each answered alone. A popular
reward's stock row is then taken once per batch instead of once per request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Response
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.redemptions.schemas import RedeemRequest, RedemptionView, redemption_body
from merchants.redemptions.service import RedemptionService
from merchants.redemptions.stock import StockRanShort
from points_service.database.group_commit import GroupCommit, WriteEachAlone
from points_service.deps import ledger_for
from points_service.errors import DomainError
from points_service.idempotency.service import REPLAY, KeyClaim, claim_each, record_each, respond


@dataclass(frozen=True)
class MemberRedeem:
    """One member's `POST /me/redemptions`, waiting to be written with others."""

    tenant_id: uuid.UUID
    request: RedeemRequest
    claim: KeyClaim | None = None


RedeemBatches = GroupCommit[MemberRedeem, "RedemptionView | str"]


def redeem_batches(state: State) -> RedeemBatches:
    async def write(session: AsyncSession, tenant_id: Any, items: list[MemberRedeem]) -> list[Any]:
        ledger = await ledger_for(state, session, tenant_id, actor_account_id=None)
        redemptions = RedemptionService(
            session,
            tenant_id,
            ledger,
            state.side_session_factory,
            ledger.clock,
            stock_sessions=state.stock_session_factory,
        )
        claims = [item.claim for item in items]
        going = await claim_each(session, tenant_id, claims)
        answers: list[Any] = [None if ahead else REPLAY for ahead in going]
        positions = [index for index, ahead in enumerate(going) if ahead]
        try:
            redeemed = await redemptions.redeem_each([items[index].request for index in positions])
        except StockRanShort as short:
            raise WriteEachAlone(str(short)) from short
        for index, answer in zip(positions, redeemed, strict=True):
            answers[index] = answer if isinstance(answer, DomainError) else redemption_body(answer, answer.status)
        await record_each(session, tenant_id, claims, answers, going)
        return answers

    return GroupCommit(state.session_factory, write, name="redemptions")


async def redeem(state: State, item: MemberRedeem) -> Response[RedemptionView]:
    """Write one redemption with whatever others are waiting; its answer, or the stored answer of its
    Idempotency-Key. A refusal raises."""
    batches: RedeemBatches = state.redeem_batches
    answer = await batches.submit(item.tenant_id, item)
    return await respond(answer, item.claim, item.tenant_id, state.read_session_factory)
