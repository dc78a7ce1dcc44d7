from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.errors import NotFound
from points_service.tenancy.models import Tenant
from points_service.tenancy.periods import TenantClock

DEFAULT_TIMEZONE = "Asia/Shanghai"


async def tenant_clock(session: AsyncSession, tenant_id: uuid.UUID) -> TenantClock:
    timezone = await session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id))
    return TenantClock(timezone or DEFAULT_TIMEZONE)


async def member_ranking(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    return await session.scalar(select(Tenant.member_ranking).where(Tenant.id == tenant_id)) or "public"


async def set_member_ranking(session: AsyncSession, tenant_id: uuid.UUID, value: str) -> str:
    tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id).with_for_update())
    if tenant is None:
        raise NotFound("No such tenant")
    tenant.member_ranking = value
    await session.flush()
    return tenant.member_ranking
