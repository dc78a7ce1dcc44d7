"""SQL of redemptions. A redemption batch's statements run on the session's asyncpg connection
(points_service/database/driver.py says why they skip SQLAlchemy's execution path); what leaves this
module is the domain's values, never the driver's rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import Merchant
from merchants.redemptions.models import Redemption
from merchants.redemptions.schemas import NewRedemption
from merchants.rewards.models import Reward
from points_service.database.driver import DriverStatement
from points_service.org.models import Member

# The rewards, their merchants' status and reach, and the members' unit paths are one round trip:
# one row per reward found, each carrying every member's path (a row with no reward when none was
# found). The paths are scalar subqueries, not a join: a prepared statement's generic plan cannot
# know how few members come back and would hash-join them against every org unit.
REWARD_TERMS_AND_MEMBER_PATHS = DriverStatement(
    text(
        """
    WITH member_paths AS (
        SELECT array_agg(m.id) AS ids,
               array_agg((SELECT u.path FROM org_units u WHERE u.tenant_id = m.tenant_id AND u.id = m.org_unit_id))
                   AS paths
          FROM members m
         WHERE m.tenant_id = :tenant AND m.id = ANY(:members)
    )
    SELECT r.id, r.merchant_id, r.title, r.points_price, r.stock, r.per_member_limit, r.limit_period,
           r.status, r.valid_until, r.redemption_window_hours, r.merchant_status, r.merchant_path,
           r.merchant_name, p.ids AS member_ids, p.paths AS member_paths
      FROM member_paths p
      LEFT JOIN (
            SELECT w.*, m.status AS merchant_status, u.path AS merchant_path, m.name AS merchant_name
              FROM rewards w
              JOIN merchants m ON m.tenant_id = w.tenant_id AND m.id = w.merchant_id
              JOIN org_units u ON u.tenant_id = m.tenant_id AND u.id = m.org_unit_id
             WHERE w.tenant_id = :tenant AND w.id = ANY(:rewards)
           ) r ON true
    """
    )
)

INSERTED_COLUMNS = (
    "id",
    "reward_id",
    "merchant_id",
    "member_id",
    "quantity",
    "points",
    "code",
    "status",
    "expires_at",
    "hold_transaction_id",
    "created_at",
)

# Rows as one array per column; a code already taken is left out (and drawn again by the caller).
INSERT_REDEMPTIONS = DriverStatement(
    text(
        """
    INSERT INTO redemptions
        (tenant_id, id, reward_id, merchant_id, member_id, quantity, points, code, status, expires_at,
         hold_transaction_id, created_at)
    SELECT :tenant, r.*
      FROM unnest(CAST(:id AS uuid[]), CAST(:reward_id AS uuid[]), CAST(:merchant_id AS uuid[]),
                  CAST(:member_id AS uuid[]), CAST(:quantity AS int[]), CAST(:points AS bigint[]),
                  CAST(:code AS text[]), CAST(:status AS text[]), CAST(:expires_at AS timestamptz[]),
                  CAST(:hold_transaction_id AS uuid[]), CAST(:created_at AS timestamptz[])) AS r
    ON CONFLICT (tenant_id, code) DO NOTHING
    RETURNING id
    """
    )
)


# The counter's batch (counter.py): the merchant's redemptions with these codes, with what the
# member's history calls them and whether the merchant may hand rewards over.
# By code first (the unique index: one row per code), then the merchant: with both in one WHERE, a plan
# made while the merchant had few redemptions (statistics from before an exchange day's rush) can walk
# the merchant's index through every redemption it ever had: 1,900 buffers per batch instead of about 25.
CODES_AT_COUNTER = DriverStatement(
    text(
        """
    WITH by_code AS MATERIALIZED (
        SELECT id, code, member_id, quantity, points, status, expires_at, reward_id, merchant_id
          FROM redemptions
         WHERE tenant_id = :tenant AND code = ANY(:codes)
    )
    SELECT r.id, r.code, r.member_id, r.quantity, r.points, r.status, r.expires_at,
           w.title AS reward_title, m.name AS merchant_name, m.status AS merchant_status
      FROM by_code r
      JOIN rewards w ON w.tenant_id = :tenant AND w.id = r.reward_id
      JOIN merchants m ON m.tenant_id = w.tenant_id AND m.id = w.merchant_id
     WHERE r.merchant_id = :merchant
    """
    )
)

# First in every redemption's lock order; sorted by id in one statement, so two batches over the
# same rows queue instead of deadlocking.
LOCK_REDEMPTIONS = DriverStatement(
    text(
        """
    SELECT id, status, expires_at
      FROM redemptions
     WHERE tenant_id = :tenant AND id = ANY(:ids)
     ORDER BY id
       FOR UPDATE
    """
    )
)

# The ids once more as an array, so that no generic plan hash-joins the unnest against every redemption.
SETTLE_REDEMPTIONS = DriverStatement(
    text(
        """
    UPDATE redemptions AS r
       SET status = 'fulfilled', settle_transaction_id = v.transaction_id, settled_at = :now,
           settled_by = v.clerk
      FROM unnest(CAST(:ids AS uuid[]), CAST(:transactions AS uuid[]), CAST(:clerks AS uuid[]))
           AS v(id, transaction_id, clerk)
     WHERE r.tenant_id = :tenant AND r.id = v.id AND r.id = ANY(CAST(:ids AS uuid[]))
    """
    )
)


@dataclass(frozen=True)
class CodeAtCounter:
    """A redemption a clerk's code names, as the counter decides on it."""

    id: uuid.UUID
    code: str
    member_id: uuid.UUID
    quantity: int
    points: int
    status: str
    expires_at: datetime
    reward_title: str
    merchant_name: str
    merchant_status: str


_CODE_AT_COUNTER_FIELDS = tuple(field.name for field in fields(CodeAtCounter))


@dataclass(frozen=True)
class LockedRedemption:
    id: uuid.UUID
    status: str
    expires_at: datetime


@dataclass(frozen=True)
class RewardTerms:
    """What a redemption batch needs of a reward: its terms, and its merchant's status and reach."""

    id: uuid.UUID
    merchant_id: uuid.UUID
    title: str
    points_price: int
    stock: int | None
    per_member_limit: int | None
    limit_period: str | None
    status: str
    valid_until: datetime | None
    redemption_window_hours: int
    merchant_status: str
    merchant_path: str
    merchant_name: str


_REWARD_TERMS_FIELDS = tuple(field.name for field in fields(RewardTerms))


def redeemed_label(title: str, quantity: int, merchant_name: str) -> str:
    """A redemption in the member's history: the reward, how many, and the shop."""
    return f"{title} × {quantity}（{merchant_name}）"


class RedemptionRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self._session = session
        self._tenant_id = tenant_id

    async def terms_and_paths(
        self, reward_ids: Sequence[uuid.UUID], member_ids: Sequence[uuid.UUID]
    ) -> tuple[dict[uuid.UUID, RewardTerms], dict[uuid.UUID, str]]:
        """The rewards that exist, and the unit path of each member that exists."""
        rows = await REWARD_TERMS_AND_MEMBER_PATHS.fetch(
            self._session, {"tenant": self._tenant_id, "rewards": reward_ids, "members": member_ids}
        )
        rewards = {
            row["id"]: RewardTerms(*(row[name] for name in _REWARD_TERMS_FIELDS))
            for row in rows
            if row["id"] is not None
        }
        first = rows[0]
        paths = dict(zip(first["member_ids"] or [], first["member_paths"] or [], strict=True))
        return rewards, paths

    async def codes_at_counter(self, merchant_id: uuid.UUID, codes: Sequence[str]) -> dict[str, CodeAtCounter]:
        """code -> the merchant's redemption with it, for the codes that name one."""
        rows = await CODES_AT_COUNTER.fetch(
            self._session, {"tenant": self._tenant_id, "merchant": merchant_id, "codes": list(codes)}
        )
        return {row["code"]: CodeAtCounter(*(row[name] for name in _CODE_AT_COUNTER_FIELDS)) for row in rows}

    async def lock_many(self, redemption_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, LockedRedemption]:
        """The redemptions, their rows locked (sorted ids, one statement)."""
        rows = await LOCK_REDEMPTIONS.fetch(self._session, {"tenant": self._tenant_id, "ids": sorted(redemption_ids)})
        return {row["id"]: LockedRedemption(row["id"], row["status"], row["expires_at"]) for row in rows}

    async def mark_fulfilled(self, settled: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID]], now: datetime) -> None:
        """(redemption, settling transaction, clerk) for each redemption handed over."""
        await SETTLE_REDEMPTIONS.fetch(
            self._session,
            {
                "tenant": self._tenant_id,
                "now": now,
                "ids": [row[0] for row in settled],
                "transactions": [row[1] for row in settled],
                "clerks": [row[2] for row in settled],
            },
        )

    async def insert_new(self, redemptions: Sequence[NewRedemption]) -> set[uuid.UUID]:
        """One INSERT for them all; the ids written (one whose code is already in use is not)."""
        inserted = await INSERT_REDEMPTIONS.fetch(
            self._session,
            {
                "tenant": self._tenant_id,
                **{column: [getattr(row, column) for row in redemptions] for column in INSERTED_COLUMNS},
            },
        )
        return {row["id"] for row in inserted}

    async def counted_quantities(
        self, reward_id: uuid.UUID, member_ids: Sequence[uuid.UUID], since: datetime | None, now: datetime
    ) -> dict[uuid.UUID, int]:
        """member -> the quantity of the reward they redeemed (since then) that still counts: fulfilled,
        or pending and not yet expired."""
        period = [] if since is None else [Redemption.created_at >= since]
        rows = await self._session.execute(
            select(Redemption.member_id, func.sum(Redemption.quantity))
            .where(
                Redemption.tenant_id == self._tenant_id,
                Redemption.reward_id == reward_id,
                Redemption.member_id.in_(member_ids),
                # A pending code past expires_at is expired for every purpose, swept or not.
                (Redemption.status == "fulfilled") | ((Redemption.status == "pending") & (Redemption.expires_at > now)),
                *period,
            )
            .group_by(Redemption.member_id)
        )
        return {member_id: int(quantity or 0) for member_id, quantity in rows}

    async def of_member(
        self, member_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[Redemption, str]]:
        statement = (
            select(Redemption, Reward.title)
            .join(Reward, (Reward.tenant_id == Redemption.tenant_id) & (Reward.id == Redemption.reward_id))
            .where(Redemption.tenant_id == self._tenant_id, Redemption.member_id == member_id)
            .order_by(Redemption.created_at.desc(), Redemption.id.desc())
            .limit(limit)
        )
        if before is not None:
            statement = statement.where(func.row(Redemption.created_at, Redemption.id) < func.row(*before))
        return [(redemption, title) for redemption, title in await self._session.execute(statement)]

    async def member_redemption(self, member_id: uuid.UUID, redemption_id: uuid.UUID) -> Redemption | None:
        return await self._session.scalar(
            select(Redemption).where(
                Redemption.tenant_id == self._tenant_id,
                Redemption.id == redemption_id,
                Redemption.member_id == member_id,
            )
        )

    async def redeemed(self, redemption: Redemption) -> str:
        """What a redemption is for, as the member's history names it: "大米5斤 × 1（红星超市）"."""
        row = (
            await self._session.execute(
                select(Reward.title, Merchant.name)
                .join(Merchant, (Merchant.tenant_id == Reward.tenant_id) & (Merchant.id == Reward.merchant_id))
                .where(Reward.tenant_id == self._tenant_id, Reward.id == redemption.reward_id)
            )
        ).first()
        return "" if row is None else redeemed_label(row[0], redemption.quantity, row[1])

    async def at_counter(self, merchant_id: uuid.UUID, code: str) -> tuple[Redemption, str, str, str] | None:
        """The merchant's redemption with this code: it, its reward's title, its member's name and
        the merchant's status."""
        row = (
            await self._session.execute(
                select(Redemption, Reward.title, Member.name, Merchant.status)
                .join(Reward, (Reward.tenant_id == Redemption.tenant_id) & (Reward.id == Redemption.reward_id))
                .join(Member, (Member.tenant_id == Redemption.tenant_id) & (Member.id == Redemption.member_id))
                .join(Merchant, (Merchant.tenant_id == Redemption.tenant_id) & (Merchant.id == Redemption.merchant_id))
                .where(
                    Redemption.tenant_id == self._tenant_id,
                    Redemption.code == code,
                    Redemption.merchant_id == merchant_id,
                )
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def locked(self, *conditions: Any) -> Redemption | None:
        """The redemption, its row locked: first in every redemption's lock order."""
        return await self._session.scalar(
            select(Redemption)
            .where(Redemption.tenant_id == self._tenant_id, *conditions)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def due(self, batch: int) -> list[uuid.UUID]:
        """Pending redemptions past their time."""
        return list(
            await self._session.scalars(
                select(Redemption.id)
                .where(
                    Redemption.tenant_id == self._tenant_id,
                    Redemption.status == "pending",
                    Redemption.expires_at <= func.now(),
                )
                .limit(batch)
            )
        )

    async def locked_if_due(self, redemption_id: uuid.UUID) -> Redemption | None:
        """The redemption if still pending and past its time, its row locked; None when another
        transaction holds it (SKIP LOCKED: a concurrent sweep or hand-over decides it)."""
        return await self._session.scalar(
            select(Redemption)
            .where(
                Redemption.tenant_id == self._tenant_id,
                Redemption.id == redemption_id,
                Redemption.status == "pending",
                Redemption.expires_at <= func.now(),
            )
            .with_for_update(skip_locked=True)
        )
