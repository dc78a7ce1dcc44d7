"""`/api/v1/admin/settings`: read by staff, changed by the tenant's admins."""

from __future__ import annotations

from litestar import Controller, get, patch
from sqlalchemy.ext.asyncio import AsyncSession

from admin.settings.schemas import SettingsPatch, TenantSettings
from points_service.auth.guards import require_admin
from points_service.auth.principal import Principal
from points_service.database.session import after_commit
from points_service.leaderboards.member_views import MEMBER_VIEWS
from points_service.tenancy.service import member_ranking, set_member_ranking


class SettingsController(Controller):
    path = "/settings"
    tags = ["admin: settings"]

    @get("/", summary="The tenant's settings")
    async def read(self, principal: Principal, db_session: AsyncSession) -> TenantSettings:
        return TenantSettings(await member_ranking(db_session, principal.tenant_id))

    @patch("/", guards=[require_admin], summary="Change what members see of the leaderboards")
    async def update(self, data: SettingsPatch, principal: Principal, db_session: AsyncSession) -> TenantSettings:
        tenant_id = principal.tenant_id

        async def forget_member_views() -> None:
            # This process's members see the new setting at once, the other processes' within 3 s.
            MEMBER_VIEWS.forget(tenant_id)

        after_commit(db_session, forget_member_views)
        return TenantSettings(await set_member_ranking(db_session, tenant_id, data.member_ranking))
