"""The expiry sweep: pending codes past `expires_at` give their points and stock back.

Runs once a minute as a scheduled job (`REDEMPTION_SWEEP`, one job per tick on the job queue) and as
`points-service sweep`; concurrent or repeated sweeps are safe because each expiry takes its row with
SKIP LOCKED and re-checks it is still pending, and each reminder is written once per code.

Beside it, once a minute (`STOCK_SWEEP`) and when the service starts: the stock of batches that never
committed (their process died after taking it) goes back, keyed by the take's record (stock.py).
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merchants.redemptions.models import Redemption
from merchants.redemptions.release import RedemptionRelease
from merchants.redemptions.stock import give_back_abandoned
from points_service.jobs import JobContext, Work
from points_service.ledger.service import LedgerService
from points_service.tenancy.service import tenant_clock

logger = logging.getLogger(__name__)

# A pending code is worth a reminder when less than a day is left, or less than half its window for
# codes that live a day or less (so none is reminded the moment it is made); once per code.
WARN_EXPIRING = text(
    """
    INSERT INTO member_notices (tenant_id, id, member_id, kind, params, once)
    SELECT r.tenant_id, gen_random_uuid(), r.member_id, 'redemption_expiring',
           jsonb_build_object('what', w.title || ' × ' || r.quantity || '（' || m.name || '）',
                              'at', r.expires_at, 'redemption_id', r.id),
           'redemption_expiring:' || r.id
      FROM redemptions r
      JOIN rewards w ON w.tenant_id = r.tenant_id AND w.id = r.reward_id
      JOIN merchants m ON m.tenant_id = r.tenant_id AND m.id = r.merchant_id
     WHERE r.status = 'pending' AND r.expires_at > now()
       AND r.expires_at - now() <= least(interval '24 hours', (r.expires_at - r.created_at) / 2)
    ON CONFLICT (tenant_id, once) WHERE once IS NOT NULL DO NOTHING
    """
)


async def warn_expiring(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Write each member's "your code expires soon" message, at most once per code."""
    async with sessions() as session, session.begin():
        result = await session.execute(WARN_EXPIRING)
    return int(getattr(result, "rowcount", 0) or 0)


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


async def sweep_job(job: JobContext) -> dict[str, int]:
    expired = await sweep_expired(job.sessions)
    if expired:
        logger.info("expired %d redemptions", expired)
    warned = await warn_expiring(job.sessions)
    if warned:
        logger.info("reminded %d members of codes about to expire", warned)
    return {"expired": expired, "reminded": warned}


REDEMPTION_SWEEP = Work("redemption_sweep", sweep_job, cron="* * * * *", timeout=120)


async def stock_sweep_job(job: JobContext) -> dict[str, int]:
    return {"given_back": await give_back_abandoned(job.sessions)}


STOCK_SWEEP = Work("stock_sweep", stock_sweep_job, cron="* * * * *", timeout=120)
