"""`/api/v1/admin/settings`: read by staff, changed by the tenant's admins."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, get, patch
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.guards import require_admin
from points_service.auth.principal import Principal
from points_service.tenancy.service import member_ranking, set_member_ranking


class SettingsPatch(msgspec.Struct):
    # public: members see their unit's board (names masked) and their own rank; own_rank: only their
    # own rank; hidden: no ranks at all.
    member_ranking: Literal["public", "own_rank", "hidden"]


class SettingsController(Controller):
    path = "/settings"
    tags = ["admin: settings"]

    @get("/", summary="The tenant's settings")
    async def read(self, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        return {"member_ranking": await member_ranking(db_session, principal.tenant_id)}

    @patch("/", guards=[require_admin], summary="Change what members see of the leaderboards")
    async def update(self, data: SettingsPatch, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        return {"member_ranking": await set_member_ranking(db_session, principal.tenant_id, data.member_ranking)}
