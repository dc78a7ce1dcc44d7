from __future__ import annotations

import uuid
from typing import Annotated, cast

from litestar import Controller, Response
from litestar.datastructures import ResponseHeader, State
from litestar.params import Parameter

from points_service.auth.guards import allow_roles, guarded_get
from points_service.auth.principal import Principal
from points_service.database.session import SessionOnUse
from points_service.errors import InvalidInput, NotFound
from points_service.leaderboards.periods import parse_board
from points_service.leaderboards.schemas import Leaderboard, MemberRanking, MyRank, Period, Ranked
from points_service.leaderboards.service import LeaderboardService, MemberNames, UnitPaths, member_view
from points_service.org.names import mask_name
from points_service.org.reach import Subtree
from points_service.org.service import OrgService
from points_service.tenancy.periods import TenantClock
from points_service.tenancy.service import tenant_clock

# Which store answered (`redis` or `database`): Redis down or not yet rebuilt shows here, not in the body.
SOURCE_HEADER = "X-Leaderboard-Source"


class LeaderboardController(Controller):
    path = "/leaderboards"
    tags = ["leaderboards"]

    # No database session among the dependencies: a read answered by Redis, with the names and unit
    # paths this process has seen before, needs no SQL at all, so the session below is made only when a
    # statement is about to run (SessionOnUse), without a transaction. It only reads.
    @guarded_get(
        "/",
        guards=[allow_roles("member", "staff", "admin")],
        summary="Earned points ranking in a subtree",
        response_headers=[
            ResponseHeader(
                name=SOURCE_HEADER,
                description="Which store answered: `redis`, or `database` while Redis is down or rebuilding",
                documentation_only=True,
            )
        ],
    )
    async def board(
        self,
        principal: Principal,
        state: State,
        period: Annotated[str, Parameter(pattern=r"^(month|year|all)$")] = "month",
        at: Annotated[str | None, Parameter(max_length=7)] = None,
        org_unit_id: uuid.UUID | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    ) -> Response[Leaderboard]:
        session = SessionOnUse(state.session_factory)
        try:
            return await self._board(principal, state, session, period, at, org_unit_id, limit)
        finally:
            await session.close()

    async def _board(
        self,
        principal: Principal,
        state: State,
        session: SessionOnUse,
        period: str,
        at: str | None,
        org_unit_id: uuid.UUID | None,
        limit: int,
    ) -> Response[Leaderboard]:
        # Made with the state (state.py), once per process; a tenant's time zone never changes.
        clocks: dict[uuid.UUID, TenantClock] = state.tenant_clocks
        clock = clocks.get(principal.tenant_id)
        if clock is None:
            clock = clocks[principal.tenant_id] = await tenant_clock(session(), principal.tenant_id)
        board = parse_board(period, at, clock.today())
        member_id = principal.member_id if principal.role == "member" else None
        if member_id is None:
            unit_id, unit_path = await self._unit_in_reach(principal, session, state, org_unit_id)
            # Staff and admins always see the whole board.
            ranking = "public"
        else:
            # The tenant's choice of what members see, read with the member's units.
            unit_id, unit_path, ranking = await self._member_unit(principal, state, org_unit_id)
        # Made by the member side's lifespan (member_side.py), once per process.
        names: MemberNames = state.leaderboard_names
        top, mine, source = await LeaderboardService(session, state.redis, principal.tenant_id, names).top(
            board, unit_id, unit_path, limit, member_id
        )
        masked = principal.role == "member"
        body = Leaderboard(
            period=cast(Period, board.period),
            at=board.at,
            org_unit_id=unit_id,
            member_ranking=cast(MemberRanking, ranking),
            items=[
                Ranked(s.rank, s.member_id, s.points, mask_name(s.name) if masked else s.name)
                for s in (top if ranking == "public" else [])
            ],
            me=MyRank(mine.rank, mine.points) if mine and ranking != "hidden" else None,
        )
        return Response(body, headers={SOURCE_HEADER: source})

    @staticmethod
    async def _unit_in_reach(
        principal: Principal, session: SessionOnUse, state: State, org_unit_id: uuid.UUID | None
    ) -> tuple[uuid.UUID, str]:
        if org_unit_id is None:
            if principal.org_unit_id is None:
                raise InvalidInput("org_unit_id", "an admin names the org unit to rank")
            org_unit_id = principal.org_unit_id
        paths: UnitPaths = state.leaderboard_unit_paths
        path = paths.get(principal.tenant_id, org_unit_id)
        known = paths.get(principal.tenant_id, principal.org_unit_id)
        reach = Subtree("") if principal.is_admin else Subtree(known) if known is not None else None
        if path is not None and reach is not None:
            reach.require(path, f"No such org unit: {org_unit_id}")
            return org_unit_id, path
        org = OrgService(session(), principal)
        unit = await org.unit_in_reach(org_unit_id)
        paths.put(principal.tenant_id, unit.id, unit.path)
        if principal.org_unit_id is not None and not principal.is_admin:
            paths.put(principal.tenant_id, principal.org_unit_id, (await org.reach()).path)
        return unit.id, unit.path

    @staticmethod
    async def _member_unit(
        principal: Principal, state: State, org_unit_id: uuid.UUID | None
    ) -> tuple[uuid.UUID, str, str]:
        view = await member_view(state.read_pool, principal.tenant_id, principal.member_id, org_unit_id)
        # A member may look at any unit that contains their home unit, and no other.
        if view.unit_id is None or view.unit_path is None:
            raise NotFound(f"No such org unit: {org_unit_id}")
        Subtree(view.unit_path).require(view.home_path, f"No such org unit: {org_unit_id}")
        return view.unit_id, view.unit_path, view.member_ranking
