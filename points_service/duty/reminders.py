"""The members' "you are on duty tomorrow" messages, written by the daily warnings run of each tenant
(admin/warnings/daily.py) in its own transaction: once per shift, however often the run is tried."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# `day` is the tenant's local date of the run; tomorrow is the next local date in the tenant's zone.
TELL_TOMORROWS_SHIFTS = text(
    """
    INSERT INTO member_notices (tenant_id, id, member_id, kind, params, once)
    SELECT s.tenant_id, gen_random_uuid(), s.member_id, 'shift_tomorrow',
           jsonb_build_object('post', p.name, 'at', s.starts_at, 'shift_id', s.id),
           'shift_tomorrow:' || s.id
      FROM shifts s
      JOIN posts p ON p.tenant_id = s.tenant_id AND p.id = s.post_id
      JOIN tenants t ON t.id = s.tenant_id
     WHERE s.tenant_id = :tenant
       -- a day's margin either side for any zone, so the member's index narrows the scan
       AND s.starts_at >= CAST(:tomorrow AS date) - interval '1 day'
       AND s.starts_at < CAST(:tomorrow AS date) + interval '2 days'
       AND CAST(s.starts_at AT TIME ZONE t.timezone AS date) = CAST(:tomorrow AS date)
    ON CONFLICT (tenant_id, once) WHERE once IS NOT NULL DO NOTHING
    """
)


async def tell_tomorrows_shifts(session: AsyncSession, tenant_id: uuid.UUID, today: date) -> int:
    """A message to each member with a shift on the local day after `today`; the number written."""
    result = await session.execute(
        TELL_TOMORROWS_SHIFTS, {"tenant": tenant_id, "tomorrow": date.fromordinal(today.toordinal() + 1)}
    )
    return int(getattr(result, "rowcount", 0) or 0)
