"""Start-up data: the tenant and its first admin (docs/api.md, "Start-up")."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.accounts import create_login
from points_service.auth.models import LoginAccount
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.tenancy.models import Tenant
from points_service.tenancy.periods import TenantClock
from points_service.tenancy.service import DEFAULT_TIMEZONE


async def create_tenant(session: AsyncSession, name: str, timezone: str = DEFAULT_TIMEZONE) -> Tenant:
    """A tenant with its ledger's own accounts opened. Here, above both, because the ledger stands on
    the tenant (its clock) and a tenant is not whole without its accounts."""
    tenant = Tenant(id=uuid.uuid4(), name=name, timezone=timezone)
    session.add(tenant)
    await session.flush()
    ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock(timezone), actor_account_id=None)
    await ledger.open_tenant_accounts()
    return tenant


async def ensure_tenant(session: AsyncSession, name: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.name == name).order_by(Tenant.created_at).limit(1))
    return tenant or await create_tenant(session, name)


async def ensure_admin(session: AsyncSession, tenant_name: str, username: str, password: str) -> bool:
    """Create the tenant and its admin unless an admin exists already. True when one was created."""
    if await session.scalar(select(LoginAccount.id).where(LoginAccount.role == "admin").limit(1)) is not None:
        return False
    tenant = await ensure_tenant(session, tenant_name)
    await create_login(session, tenant.id, username, password, "admin")
    return True
