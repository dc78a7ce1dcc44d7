"""The member's own view: who am I, my balance, my history."""

from __future__ import annotations

from typing import cast

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.guards import guarded_get, require_any_role
from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.auth.schemas import Role
from points_service.database.session import READS_ONE_SNAPSHOT
from points_service.deps import provide_ledger, tenant_clock_of
from points_service.errors import NotFound
from points_service.ledger.schemas import LedgerPage, ledger_page
from points_service.ledger.service import LedgerService, member_balance
from points_service.me.schemas import Balance, Me, PartyStatus, UnitRef
from points_service.openapi import REFUSALS
from points_service.org.models import Member, OrgUnit
from points_service.pagination import Cursor, Limit, decode_cursor


class MeController(Controller):
    path = "/me"
    tags = ["me"]
    dependencies = {"ledger": Provide(provide_ledger)}

    @get("/", guards=[require_any_role], summary="Who am I", opt={REFUSALS: (404,)})
    async def me(self, principal: Principal, db_session: AsyncSession) -> Me:
        account = await db_session.scalar(
            select(LoginAccount).where(
                LoginAccount.tenant_id == principal.tenant_id, LoginAccount.id == principal.account_id
            )
        )
        if account is None:
            raise NotFound("This account no longer exists")
        if principal.member_id is None:
            return Me(id=account.id, role=cast(Role, account.role), name=account.username, username=account.username)
        row = (
            await db_session.execute(
                select(Member, OrgUnit)
                .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
                .where(Member.tenant_id == principal.tenant_id, Member.id == principal.member_id)
            )
        ).one()
        member, unit = row
        return Me(
            id=member.id,
            role=cast(Role, account.role),
            name=member.name,
            username=account.username,
            member_id=member.id,
            org_unit=UnitRef(unit.id, unit.name),
            party_status=cast(PartyStatus, member.party_status),
            cadre_position=member.cadre_position,
        )

    @guarded_get(
        "/balance", guards=[require_any_role], summary="My points: available, held and earned", opt={REFUSALS: (404,)}
    )
    async def balance(self, principal: Principal, state: State) -> Balance:
        # Other roles have no balance (nor a ledger): 404, as for any object outside one's reach.
        # No session: the hottest read of the service, on the read pool (points_service/database/reads.py).
        if principal.member_id is None:
            raise NotFound("Only members have a balance")
        clock = await tenant_clock_of(state, principal.tenant_id)
        balance = await member_balance(state.read_pool, clock, principal.tenant_id, principal.member_id)
        return Balance(
            balance.available,
            balance.held,
            balance.earned_total,
            balance.earned_this_month,
            balance.earned_this_year,
        )

    @get(
        "/ledger",
        guards=[require_any_role],
        summary="My ledger lines, newest first",
        opt={READS_ONE_SNAPSHOT: True, REFUSALS: (404,)},
    )
    async def ledger_lines(
        self, principal: Principal, ledger: LedgerService, limit: Limit = 50, cursor: Cursor = None
    ) -> LedgerPage:
        if principal.member_id is None:
            raise NotFound("Only members have a ledger")
        lines = await ledger.history(principal.member_id, limit + 1, decode_cursor(cursor))
        return ledger_page(lines, limit)
