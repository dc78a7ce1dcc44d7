"""What the small demo hands each package so it can add its part (the marketplace adds shops). Here,
beside the plugin, so a package needs nothing of the demo loader itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from points_service.auth.principal import Principal
    from points_service.ledger.service import LedgerService
    from points_service.org.service import OrgService
    from points_service.tenancy.periods import TenantClock


@dataclass(frozen=True)
class DemoScene:
    """The demo community as loaded so far, seen by its admin."""

    session: AsyncSession
    principal: Principal
    org: OrgService
    ledger: LedgerService
    clock: TenantClock
    community_id: uuid.UUID
    # Every member in roster order; the first is the one whose page the tour opens.
    member_ids: list[uuid.UUID]
    # Usernames start with it, so two demos (tests) never want the same name.
    prefix: str
    password: str
