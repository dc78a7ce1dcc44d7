from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.guards import allow_roles
from points_service.auth.principal import Principal
from points_service.deps import provide_ledger, provide_org
from points_service.errors import InvalidInput, NotFound
from points_service.leaderboards.periods import parse_board
from points_service.leaderboards.service import LeaderboardService
from points_service.ledger.service import LedgerService
from points_service.org.models import Member, OrgUnit
from points_service.org.names import mask_name
from points_service.org.service import OrgService
from points_service.tenancy.service import member_ranking


class LeaderboardController(Controller):
    path = "/leaderboards"
    tags = ["leaderboards"]
    dependencies = {"ledger": Provide(provide_ledger), "org": Provide(provide_org)}

    @get("/", guards=[allow_roles("member", "staff", "admin")], summary="Earned points ranking in a subtree")
    async def board(
        self,
        principal: Principal,
        db_session: AsyncSession,
        state: State,
        ledger: LedgerService,
        org: OrgService,
        period: Annotated[str, Parameter(pattern=r"^(month|year|all)$")] = "month",
        at: Annotated[str | None, Parameter(max_length=7)] = None,
        org_unit_id: uuid.UUID | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> dict[str, Any]:
        board = parse_board(period, at, ledger.clock.today())
        unit = await self._unit(principal, db_session, org, org_unit_id)
        member_id = principal.member_id if principal.role == "member" else None
        # The tenant's choice of what members see; staff and admins always see the whole board.
        ranking = await member_ranking(db_session, principal.tenant_id) if member_id else "public"
        top, mine, _ = await LeaderboardService(db_session, state.redis, principal.tenant_id).top(
            board, unit.id, unit.path, limit, member_id
        )
        masked = principal.role == "member"
        return {
            "period": board.period,
            "at": board.at,
            "org_unit_id": unit.id,
            "member_ranking": ranking,
            "items": [
                {
                    "rank": s.rank,
                    "member_id": s.member_id,
                    "points": s.points,
                    "display_name": mask_name(s.name) if masked else s.name,
                }
                for s in (top if ranking == "public" else [])
            ],
            "me": {"rank": mine.rank, "points": mine.points} if mine and ranking != "hidden" else None,
        }

    @staticmethod
    async def _unit(
        principal: Principal, session: AsyncSession, org: OrgService, org_unit_id: uuid.UUID | None
    ) -> OrgUnit:
        if principal.role != "member":
            if org_unit_id is None:
                if principal.org_unit_id is None:
                    raise InvalidInput("org_unit_id", "an admin names the org unit to rank")
                org_unit_id = principal.org_unit_id
            return await org.unit_in_reach(org_unit_id)
        home = await session.scalar(
            OrgUnit.__table__.select()
            .with_only_columns(OrgUnit.path)
            .join(Member, (Member.tenant_id == OrgUnit.tenant_id) & (Member.org_unit_id == OrgUnit.id))
            .where(Member.tenant_id == principal.tenant_id, Member.id == principal.member_id)
        )
        unit_id = org_unit_id or (uuid.UUID(home.strip("/").split("/")[-1]) if home else None)
        unit = await session.get(OrgUnit, (principal.tenant_id, unit_id)) if unit_id else None
        # A member may look at any unit that contains their home unit, and no other.
        if unit is None or home is None or not home.startswith(unit.path):
            raise NotFound(f"No such org unit: {org_unit_id}")
        return unit
