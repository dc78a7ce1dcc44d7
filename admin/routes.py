"""The staff API router: `/api/v1/admin`, staff and admins only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from litestar import Router
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from admin.accounts.controllers import MemberAccountController, StaffAccountController
from admin.approvals.controllers import ApprovalController
from admin.approvals.service import ApprovalQueue
from admin.evaluations.controllers import EvaluationController
from admin.evaluations.service import EvaluationService
from admin.imports.controllers import ImportController, MemberExportController, provide_roster
from admin.org.controllers import MemberController, OrgUnitController, StaffController
from admin.points.controllers import PointsController
from admin.points.service import StaffPointsService
from admin.rules.controllers import RuleController
from admin.settings.controllers import SettingsController
from admin.warnings.controllers import WarningController
from points_service.approvals import PendingSource
from points_service.auth.guards import require_staff
from points_service.auth.principal import Principal
from points_service.deps import provide_idempotent, provide_ledger, provide_org
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService
from points_service.rules.service import RuleService


async def provide_staff_points(
    principal: Principal, org: OrgService, ledger: LedgerService, db_session: AsyncSession, state: State
) -> StaffPointsService:
    rules = RuleService(db_session, principal.tenant_id)
    return StaffPointsService(principal, org, rules, ledger, db_session, state.redis)


async def provide_evaluations(db_session: AsyncSession, principal: Principal, org: OrgService) -> EvaluationService:
    return EvaluationService(db_session, principal, org)


def approvals_provider(offered: Sequence[PendingSource]) -> Callable[..., Awaitable[ApprovalQueue]]:
    """The queue's dependency: the core's pending sources and those other packages offer."""

    async def provide_approvals(db_session: AsyncSession, principal: Principal, org: OrgService) -> ApprovalQueue:
        return ApprovalQueue(db_session, principal.tenant_id, org, offered)

    return provide_approvals


def admin_router(offered: Sequence[PendingSource] = ()) -> Router:
    return Router(
        path="/admin",
        guards=[require_staff],
        dependencies={
            "org": Provide(provide_org),
            "ledger": Provide(provide_ledger),
            "idempotent": Provide(provide_idempotent),
            "staff_points": Provide(provide_staff_points),
            "evaluations": Provide(provide_evaluations),
            "approvals": Provide(approvals_provider(offered)),
            "roster": Provide(provide_roster),
        },
        route_handlers=[
            OrgUnitController,
            ImportController,
            MemberExportController,
            MemberController,
            StaffController,
            MemberAccountController,
            StaffAccountController,
            RuleController,
            PointsController,
            EvaluationController,
            WarningController,
            SettingsController,
            ApprovalController,
        ],
    )
