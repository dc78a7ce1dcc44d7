"""Registering merchants and their clerks; suspending them. Staff reach merchants of their subtree."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import Merchant
from merchants.errors import ShopWrongStatus
from points_service.auth.accounts import create_login, locked_login, set_login_active
from points_service.auth.models import LoginAccount
from points_service.auth.revocation import AccountStates
from points_service.errors import InvalidInput, NotFound
from points_service.ledger.service import LedgerService
from points_service.org.models import OrgUnit
from points_service.org.service import OrgService


class MerchantService:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, org: OrgService, ledger: LedgerService) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._org = org
        self._ledger = ledger

    async def register(self, name: str, address: str, org_unit_id: uuid.UUID, username: str, password: str) -> Merchant:
        await self._org.unit_in_reach(org_unit_id)
        merchant = Merchant(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            name=name,
            address=address,
            org_unit_id=org_unit_id,
            status="active",
            honours=[],
        )
        self._session.add(merchant)
        await self._session.flush()
        await self._ledger.open_merchant_account(merchant.id)
        await create_login(self._session, self._tenant_id, username, password, "clerk", merchant_id=merchant.id)
        return merchant

    async def in_reach(self, merchant_id: uuid.UUID) -> Merchant:
        merchant = await self._session.scalar(
            select(Merchant).where(Merchant.tenant_id == self._tenant_id, Merchant.id == merchant_id)
        )
        if merchant is None:
            raise NotFound(f"No such merchant: {merchant_id}")
        try:
            await self._org.unit_in_reach(merchant.org_unit_id)
        except NotFound as error:
            raise NotFound(f"No such merchant: {merchant_id}") from error
        return merchant

    async def ids_in_reach(self) -> list[uuid.UUID]:
        reach = await self._org.reach()
        statement = (
            select(Merchant.id)
            .join(OrgUnit, (OrgUnit.tenant_id == Merchant.tenant_id) & (OrgUnit.id == Merchant.org_unit_id))
            .where(Merchant.tenant_id == self._tenant_id, reach.clause(OrgUnit.path))
        )
        return list(await self._session.scalars(statement))

    async def in_reach_listed(
        self, status: str | None, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[Merchant]:
        """Merchants of the caller's subtree, newest first (staff look for `pending` applications)."""
        reach = await self._org.reach()
        statement = (
            select(Merchant)
            .join(OrgUnit, (OrgUnit.tenant_id == Merchant.tenant_id) & (OrgUnit.id == Merchant.org_unit_id))
            .where(Merchant.tenant_id == self._tenant_id, reach.clause(OrgUnit.path))
            .order_by(Merchant.created_at.desc(), Merchant.id.desc())
            .limit(limit)
        )
        if status is not None:
            statement = statement.where(Merchant.status == status)
        if before is not None:
            statement = statement.where(tuple_(Merchant.created_at, Merchant.id) < tuple_(*before))
        return list(await self._session.scalars(statement))

    async def add_clerk(self, merchant_id: uuid.UUID, username: str, password: str) -> LoginAccount:
        await self.in_reach(merchant_id)
        return await create_login(self._session, self._tenant_id, username, password, "clerk", merchant_id=merchant_id)

    async def decide(self, merchant_id: uuid.UUID, status: str, note: str | None) -> Merchant:
        """A staff decision on a shop: approve (`active`) or refuse (`refused`, with a reason) an application,
        suspend an active shop (with a reason), reactivate a suspended one. Any other step is refused."""
        allowed = {"active": ("pending", "suspended"), "refused": ("pending",), "suspended": ("active",)}
        if status not in allowed:
            raise InvalidInput("status", "active, refused or suspended")
        if status in ("refused", "suspended") and not (note and note.strip()):
            raise InvalidInput("reason", "must not be empty")
        merchant = await self.in_reach(merchant_id)
        if merchant.status not in allowed[status]:
            raise ShopWrongStatus(f"The shop is {merchant.status}")
        merchant.status = status
        merchant.status_note = note.strip() if note and status != "active" else None
        await self._session.flush()
        return merchant

    async def update(
        self,
        merchant_id: uuid.UUID,
        status: str | None,
        name: str | None,
        address: str | None,
        honours: list[str] | None,
    ) -> Merchant:
        merchant = await self.in_reach(merchant_id)
        if status is not None:
            merchant.status = status
        if name is not None:
            merchant.name = name
        if address is not None:
            merchant.address = address
        if honours is not None:
            merchant.honours = honours
        await self._session.flush()
        return merchant

    async def set_clerk_active(
        self, merchant_id: uuid.UUID, clerk_id: uuid.UUID, active: bool, states: AccountStates | None = None
    ) -> LoginAccount:
        """A clerk who left is switched off: they cannot sign in and their sessions end."""
        await self.in_reach(merchant_id)
        clerk = await locked_login(self._session, self._tenant_id, clerk_id)
        if clerk is None or clerk.role != "clerk" or clerk.merchant_id != merchant_id:
            raise NotFound(f"No such clerk: {clerk_id}")
        await set_login_active(self._session, clerk, active)
        if states is not None:
            states.forget(clerk.id)
        return clerk
