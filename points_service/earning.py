"""What every earning service (activities, claims, posts and shifts, wishes, reports, registration)
works with in one request, built once by one provider so each service takes it whole."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.org.service import OrgService
from points_service.proxies.service import ProxyService
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock


@dataclass(frozen=True)
class EarningContext:
    """The request's session and caller, with the org service that owns reach, the rules that pay,
    the proxies that say who may act for whom (代办) and the tenant's clock. The ledger is not here: a
    handler that pays asks for it and hands it to the one call that pays."""

    session: AsyncSession
    principal: Principal
    org: OrgService
    rules: RuleService
    proxies: ProxyService
    clock: TenantClock

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.principal.tenant_id


def earning_context(session: AsyncSession, principal: Principal, clock: TenantClock) -> EarningContext:
    """The context outside a request scope's providers (the console, the demo loader)."""
    org = OrgService(session, principal)
    return EarningContext(
        session, principal, org, RuleService(session, principal.tenant_id), ProxyService(session, principal, org), clock
    )


class EarningService:
    """The base of the earning services: the context's parts under the names their rules read."""

    def __init__(self, earning: EarningContext) -> None:
        self._session = earning.session
        self._principal = earning.principal
        self._tenant_id = earning.tenant_id
        self._org = earning.org
        self._rules = earning.rules
        self._proxies = earning.proxies
        self._clock = earning.clock
