"""A member's units and the tenant's ranking setting as the member's board read them, per process.

Reading them cost a member's board one PostgreSQL round trip on every request. Each process now keeps
what it read for `MEMBER_VIEW_SECONDS`, as long as it keeps an account's state (auth/revocation.py): a
member moved to another unit, a unit moved or a new ranking setting reaches every process within that
time. The process that makes the change forgets the tenant's entries at once: the setting's PATCH once
it commits, a move when it drops the tenant's boards (leaderboards/upkeep.py, `drop_boards`).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from points_service.auth.revocation import STATE_SECONDS

MEMBER_VIEW_SECONDS = STATE_SECONDS
VIEWS_KEPT = 50_000

Key = tuple[uuid.UUID, uuid.UUID | None, uuid.UUID | None]


class MemberViews:
    def __init__(self, seconds: float = MEMBER_VIEW_SECONDS) -> None:
        self._seconds = seconds
        self._known: dict[Key, tuple[Any, float]] = {}

    def get(self, key: Key) -> Any | None:
        known = self._known.get(key)
        if known is None or known[1] <= time.monotonic():
            return None
        return known[0]

    def put(self, key: Key, view: Any) -> None:
        if len(self._known) >= VIEWS_KEPT:
            self._known.clear()
        self._known[key] = (view, time.monotonic() + self._seconds)

    def forget(self, tenant_id: uuid.UUID) -> None:
        for key in [key for key in self._known if key[0] == tenant_id]:
            del self._known[key]


# One per process, as the account states are.
MEMBER_VIEWS = MemberViews()
