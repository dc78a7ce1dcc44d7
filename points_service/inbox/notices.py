"""Writing notices: one statement in the caller's transaction, so a notice exists exactly when what
caused it was committed, and a refused action (rolled back) leaves none.

The hooks that call these live where the change happens: the ledger's writer (points received), the
wish, report and activity services, the merchants' fulfilment and expiry sweep, the daily warnings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.database.driver import DriverStatement

# On the session's own asyncpg connection: the ledger calls this inside a group-commit batch, where
# SQLAlchemy's execution path costs more than the statement.
WRITE_NOTICES = DriverStatement(
    text(
        """
    INSERT INTO member_notices (tenant_id, id, member_id, kind, params, once)
    SELECT :tenant, n.id, n.member_id, n.kind, CAST(n.params AS jsonb), n.once
      FROM unnest(CAST(:ids AS uuid[]), CAST(:members AS uuid[]), CAST(:kinds AS text[]),
                  CAST(:params AS text[]), CAST(:onces AS text[])) AS n(id, member_id, kind, params, once)
    ON CONFLICT (tenant_id, once) WHERE once IS NOT NULL DO NOTHING
    RETURNING member_id
    """
    )
)


@dataclass(frozen=True)
class Notice:
    member_id: uuid.UUID
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    # Set by jobs that run again and again: what the notice is about, written at most once.
    once: str | None = None


async def notify(session: AsyncSession, tenant_id: uuid.UUID, notices: Sequence[Notice]) -> int:
    """Write `notices` in the session's transaction; the number written (a repeated `once` is skipped)."""
    if not notices:
        return 0
    rows = await WRITE_NOTICES.fetch(session, {"tenant": tenant_id, **notice_columns(notices)})
    return len(rows)


def notice_columns(notices: Sequence[Notice], prefix: str = "") -> dict[str, list[Any]]:
    """The notices as one array per column, as WRITE_NOTICES takes them (and the ledger's writer, which
    writes a posting's notices in the statement that writes the posting)."""
    return {
        f"{prefix}ids": [uuid.uuid4() for _ in notices],
        f"{prefix}members": [notice.member_id for notice in notices],
        f"{prefix}kinds": [notice.kind for notice in notices],
        f"{prefix}params": [json.dumps(notice.params, ensure_ascii=False, default=str) for notice in notices],
        f"{prefix}onces": [notice.once for notice in notices],
    }


async def notify_account(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    kind: str,
    params: dict[str, Any],
    unless: uuid.UUID | None = None,
) -> int:
    """A notice to the member behind a login account (a wish's poster); none when it is staff's, or
    when that member is `unless` (who caused it)."""
    member_id = await session.scalar(
        text("SELECT member_id FROM login_accounts WHERE tenant_id = :tenant AND id = :account"),
        {"tenant": tenant_id, "account": account_id},
    )
    if member_id is None or member_id == unless:
        return 0
    return await notify(session, tenant_id, [Notice(member_id, kind, params)])
