"""The ledger's tamper evidence: transaction digests, per-account hash chains and daily seals.

Written once here and used both when posting and when `reconcile` recomputes, so the two can
never disagree about what a hash covers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date


def transaction_digest(
    transaction_id: uuid.UUID,
    kind: str,
    member_id: uuid.UUID | None,
    rule_code: str | None,
    local_date: date,
    earned_delta: int,
    reverses_id: uuid.UUID | None,
    lines: Iterable[tuple[uuid.UUID, int]],
) -> str:
    canonical_lines = ";".join(f"{account}:{amount}" for account, amount in sorted(lines))
    text = "|".join(
        str(part)
        for part in (
            transaction_id,
            kind,
            member_id or "",
            rule_code or "",
            local_date.isoformat(),
            earned_delta,
            reverses_id or "",
            canonical_lines,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def chained_entry_hash(
    prev_hash: str, account_id: uuid.UUID, seq: int, transaction_id: uuid.UUID, amount: int, digest: str
) -> str:
    text = f"{prev_hash}|{account_id}|{seq}|{transaction_id}|{amount}|{digest}"
    return hashlib.sha256(text.encode()).hexdigest()


def unchained_entry_hash(account_id: uuid.UUID, transaction_id: uuid.UUID, amount: int, digest: str) -> str:
    text = f"{account_id}|{transaction_id}|{amount}|{digest}"
    return hashlib.sha256(text.encode()).hexdigest()


def daily_seal(day: date, digests_in_order: Iterable[str]) -> str:
    running = hashlib.sha256(day.isoformat().encode())
    for digest in digests_in_order:
        running.update(digest.encode())
    return running.hexdigest()
