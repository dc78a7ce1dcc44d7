from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from admin.warnings.service import WarningService
from points_service.auth.principal import Principal
from points_service.errors import InvalidInput
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService


class WarningController(Controller):
    path = "/warnings"
    tags = ["admin: warnings"]

    @get("/", summary="Early warnings in a subtree, with counts per child unit")
    async def warnings(
        self,
        principal: Principal,
        db_session: AsyncSession,
        org: OrgService,
        ledger: LedgerService,
        org_unit_id: uuid.UUID | None = None,
        inactive_days: Annotated[int, Parameter(ge=1, le=3650)] = 30,
        attendance_below: Annotated[float, Parameter(ge=0, le=1, description="Duty attendance threshold")] = 0.8,
        duty_days: Annotated[int, Parameter(ge=1, le=366, description="Duty attendance window, days")] = 30,
    ) -> dict[str, Any]:
        unit_id = org_unit_id or principal.org_unit_id
        if unit_id is None:
            raise InvalidInput("org_unit_id", "an admin names the org unit to check")
        service = WarningService(db_session, principal.tenant_id, org, ledger.clock)
        unit, checks = await service.run(unit_id, inactive_days, attendance_below, duty_days)
        return {
            "org_unit_id": unit.id,
            "checks": [
                {
                    "kind": c.kind,
                    "label": c.label,
                    "available": c.available,
                    "count": len(c.items),
                    "items": c.items,
                    "counts_per_unit": c.counts_per_unit,
                }
                for c in checks
            ],
        }
