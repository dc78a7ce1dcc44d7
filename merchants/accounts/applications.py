"""A shop applies to join on its own (from the link its community gives it); staff approve.

The application names the org unit the shop wants to serve; that unit's id is an unguessable UUID that
staff hand out (as a link or a QR code), so it also decides the tenant. The merchant starts `pending`:
its clerk can sign in and prepare rewards, but nothing reaches members and no code can be settled until
staff set it `active` (PATCH /api/v1/admin/merchants/{id}).
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import Merchant
from points_service.auth.accounts import create_login
from points_service.auth.rate_limit import FailureLimiter
from points_service.errors import NotFound
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.org.models import OrgUnit
from points_service.tenancy.service import tenant_clock

# Every application creates a login; one address may file a handful a day, not a flood.
APPLICATIONS_PER_ADDRESS = 5
APPLICATION_WINDOW_SECONDS = 24 * 3600


def application_limiter(redis: Redis) -> FailureLimiter:
    return FailureLimiter(redis, APPLICATION_WINDOW_SECONDS)


class MerchantApplications:
    def __init__(self, session: AsyncSession, limiter: FailureLimiter) -> None:
        self._session = session
        self._limiter = limiter

    async def community(self, org_unit_id: uuid.UUID) -> OrgUnit:
        unit = await self._session.scalar(select(OrgUnit).where(OrgUnit.id == org_unit_id))
        if unit is None:
            raise NotFound("No such community: ask the community for its application link")
        return unit

    async def apply(
        self, org_unit_id: uuid.UUID, name: str, address: str, username: str, password: str, client_address: str
    ) -> Merchant:
        unit = await self.community(org_unit_id)
        # Per tenant: what a flood would fill is that community's queue of applications.
        key = f"merchant-applications:{unit.tenant_id}:{client_address}"
        # Counted before anything is judged, and never given back (a taken username counts too): the
        # limit is on how many an address files, and a burst of parallel ones cannot outrun the count.
        await self._limiter.take([(key, APPLICATIONS_PER_ADDRESS)])
        merchant = Merchant(
            id=uuid.uuid4(),
            tenant_id=unit.tenant_id,
            name=name,
            address=address,
            org_unit_id=unit.id,
            status="pending",
            honours=[],
        )
        self._session.add(merchant)
        await self._session.flush()
        ledger = LedgerService(
            LedgerRepository(self._session, unit.tenant_id), await tenant_clock(self._session, unit.tenant_id), None
        )
        await ledger.open_merchant_account(merchant.id)
        await create_login(self._session, unit.tenant_id, username, password, "clerk", merchant_id=merchant.id)
        return merchant
