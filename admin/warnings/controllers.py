from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from admin.warnings.daily import DailyWarnings
from admin.warnings.schemas import (
    DailyRun,
    DailyWarningsView,
    ThresholdsPatch,
    ThresholdsView,
    WarningsView,
    checks_body,
    thresholds_body,
)
from admin.warnings.service import Thresholds, WarningService
from points_service.auth.guards import require_admin
from points_service.auth.principal import Principal
from points_service.errors import InvalidInput
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService


def unit_asked(principal: Principal, org_unit_id: uuid.UUID | None) -> uuid.UUID:
    unit_id = org_unit_id or principal.org_unit_id
    if unit_id is None:
        raise InvalidInput("org_unit_id", "an admin names the org unit to check")
    return unit_id


class WarningController(Controller):
    path = "/warnings"
    tags = ["admin: warnings"]

    @get("/", summary="Early warnings in a subtree, with counts per child unit (thresholds default to the tenant's)")
    async def warnings(
        self,
        principal: Principal,
        db_session: AsyncSession,
        org: OrgService,
        ledger: LedgerService,
        org_unit_id: uuid.UUID | None = None,
        inactive_days: Annotated[int | None, Parameter(ge=1, le=3650)] = None,
        attendance_below: Annotated[
            float | None, Parameter(ge=0, le=1, description="Duty attendance threshold")
        ] = None,
        duty_days: Annotated[int | None, Parameter(ge=1, le=366, description="Duty attendance window, days")] = None,
    ) -> WarningsView:
        unit_id = unit_asked(principal, org_unit_id)
        chosen = await DailyWarnings(db_session, principal.tenant_id).thresholds()
        service = WarningService(db_session, principal.tenant_id, org, ledger.clock)
        unit, checks = await service.run(
            unit_id,
            inactive_days or chosen.inactive_days,
            chosen.attendance_below if attendance_below is None else attendance_below,
            duty_days or chosen.duty_days,
        )
        return WarningsView(unit.id, checks_body(checks))

    @get(
        "/daily",
        summary="The newest stored daily run, read for a subtree (run null and no checks before the first run)",
    )
    async def daily(
        self, principal: Principal, db_session: AsyncSession, org: OrgService, org_unit_id: uuid.UUID | None = None
    ) -> DailyWarningsView:
        unit, children = await org.unit_with_children(unit_asked(principal, org_unit_id))
        stored = await DailyWarnings(db_session, principal.tenant_id).latest(unit, children)
        if stored is None:
            return DailyWarningsView(unit.id, run=None, checks=[])
        run = DailyRun(
            id=stored.run.id,
            run_date=stored.run.run_date,
            ran_at=stored.run.created_at,
            finished_at=stored.run.finished_at,
            inactive_days=stored.thresholds.inactive_days,
            attendance_below=stored.thresholds.attendance_below,
            duty_days=stored.thresholds.duty_days,
        )
        return DailyWarningsView(unit.id, run=run, checks=checks_body(stored.checks))

    @get("/settings", summary="The tenant's warning thresholds (the daily run's and on-demand defaults)")
    async def settings(self, principal: Principal, db_session: AsyncSession) -> ThresholdsView:
        return thresholds_body(await DailyWarnings(db_session, principal.tenant_id).thresholds())

    @patch("/settings", guards=[require_admin], summary="Change the tenant's warning thresholds")
    async def change_settings(
        self, data: ThresholdsPatch, principal: Principal, db_session: AsyncSession
    ) -> ThresholdsView:
        daily = DailyWarnings(db_session, principal.tenant_id)
        now = await daily.thresholds()
        changed = Thresholds(
            data.inactive_days or now.inactive_days,
            now.attendance_below if data.attendance_below is None else data.attendance_below,
            data.duty_days or now.duty_days,
        )
        return thresholds_body(await daily.set_thresholds(changed))
