"""The marketplace's side of `points_service.accounts.clerks`: the staff console lists the shops of the
caller's subtree with their clerks and switches a clerk off or on, through the same rules as the API's
`PATCH /admin/merchants/{id}/clerks/{clerk_id}` (the shop in reach, the clerk its own)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import Merchant
from points_service.accounts.clerks import ClerkLine, ShopWithClerks
from points_service.auth.accounts import locked_login, set_login_active
from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.auth.revocation import AccountStates
from points_service.errors import NotFound
from points_service.org.models import OrgUnit
from points_service.org.service import OrgService


class MerchantShopClerks:
    async def shops(
        self, session: AsyncSession, principal: Principal, name: str | None, limit: int
    ) -> list[ShopWithClerks]:
        reach = await OrgService(session, principal).reach()
        statement = (
            select(Merchant, OrgUnit.name)
            .join(OrgUnit, (OrgUnit.tenant_id == Merchant.tenant_id) & (OrgUnit.id == Merchant.org_unit_id))
            .where(Merchant.tenant_id == principal.tenant_id, reach.clause(OrgUnit.path))
            .order_by(Merchant.name, Merchant.id)
            .limit(limit)
        )
        if name:
            statement = statement.where(Merchant.name.contains(name, autoescape=True))
        shops = (await session.execute(statement)).all()
        clerks: dict[uuid.UUID, list[ClerkLine]] = {merchant.id: [] for merchant, _ in shops}
        if clerks:
            found = await session.scalars(
                select(LoginAccount)
                .where(
                    LoginAccount.tenant_id == principal.tenant_id,
                    LoginAccount.role == "clerk",
                    LoginAccount.merchant_id.in_(list(clerks)),
                )
                .order_by(LoginAccount.username)
            )
            for account in found:
                if account.merchant_id is not None:
                    clerks[account.merchant_id].append(ClerkLine(account.id, account.username, account.is_active))
        return [
            ShopWithClerks(merchant.id, merchant.name, unit_name, merchant.status, clerks[merchant.id])
            for merchant, unit_name in shops
        ]

    async def set_clerk_active(
        self,
        session: AsyncSession,
        principal: Principal,
        merchant_id: uuid.UUID,
        clerk_id: uuid.UUID,
        active: bool,
        states: AccountStates | None,
    ) -> ClerkLine:
        merchant = await session.scalar(
            select(Merchant).where(Merchant.tenant_id == principal.tenant_id, Merchant.id == merchant_id)
        )
        if merchant is None:
            raise NotFound(f"No such merchant: {merchant_id}")
        try:
            await OrgService(session, principal).unit_in_reach(merchant.org_unit_id)
        except NotFound as error:
            raise NotFound(f"No such merchant: {merchant_id}") from error
        clerk = await locked_login(session, principal.tenant_id, clerk_id)
        if clerk is None or clerk.role != "clerk" or clerk.merchant_id != merchant_id:
            raise NotFound(f"No such clerk: {clerk_id}")
        await set_login_active(session, clerk, active)
        await session.flush()
        if states is not None:
            states.forget(clerk.id)
        return ClerkLine(clerk.id, clerk.username, clerk.is_active)
