"""The expiry sweep: pending codes past `expires_at` give their points and stock back.

Runs in every API process once a minute (and as `points-service sweep`); concurrent sweeps are safe
because each expiry takes its row with SKIP LOCKED and re-checks it is still pending.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.redemptions.models import Redemption
from merchants.redemptions.release import RedemptionRelease
from points_service.ledger.service import LedgerService
from points_service.tenancy.service import tenant_clock

logger = logging.getLogger(__name__)
SWEEP_EVERY_SECONDS = 60


async def sweep_expired(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        tenants = list(
            await session.scalars(
                select(Redemption.tenant_id)
                .where(Redemption.status == "pending", Redemption.expires_at <= func.now())
                .distinct()
            )
        )
    expired = 0
    for tenant_id in tenants:
        async with sessions() as session:
            clock = await tenant_clock(session, tenant_id)
            ledger = LedgerService.in_session(session, tenant_id, clock)
            expired += await RedemptionRelease(session, tenant_id, ledger, sessions).expire_due()
    return expired


async def sweep_forever(sessions: async_sessionmaker[AsyncSession]) -> None:
    while True:
        try:
            expired = await sweep_expired(sessions)
            if expired:
                logger.info("expired %d redemptions", expired)
        except (SQLAlchemyError, OSError):
            logger.exception("redemption sweep failed; retrying in %s s", SWEEP_EVERY_SECONDS)
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
