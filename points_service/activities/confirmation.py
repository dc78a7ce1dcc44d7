"""Paying a confirmed attendance: every attendee in one all-or-nothing `award_many`, each award sourced
`activity:<activity>:<member>`, so an attendance is paid at most once however often it is confirmed;
then the no-show penalty, member by member."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from points_service.activities.models import Activity, ActivitySignup
from points_service.activities.repository import ActivityRepository
from points_service.database.session import savepoint
from points_service.errors import InsufficientPoints
from points_service.ledger.service import AwardItem, LedgerService
from points_service.rules.models import Rule


@dataclass(frozen=True)
class Attendee:
    member_id: uuid.UUID
    hours: Decimal | None = None


@dataclass
class Confirmation:
    activity: Activity
    attended: list[tuple[uuid.UUID, Decimal, uuid.UUID | None]] = field(default_factory=list)  # member, hours, txn
    points_total: int = 0
    penalised: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # member, txn
    penalty_skipped: list[uuid.UUID] = field(default_factory=list)
    no_shows: list[uuid.UUID] = field(default_factory=list)


def hours_between(start: datetime, end: datetime) -> Decimal:
    seconds = max((end - start).total_seconds(), 0)
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def pay_attendance(
    repo: ActivityRepository,
    activity: Activity,
    signups: dict[uuid.UUID, ActivitySignup],
    paid: dict[uuid.UUID, Decimal],
    ledger: LedgerService,
) -> Confirmation:
    """Pays `paid` (member: hours) and penalises the signed-up members who neither checked in nor are paid."""
    rule = await repo.rule(activity.rule_id)
    result = Confirmation(activity)
    quantities = {member_id: hours if rule.unit == "hour" else Decimal(1) for member_id, hours in paid.items()}
    # A few minutes under an hourly rule can round to 0 points, which no ledger entry may carry: that
    # attendance is recorded but earns nothing, rather than failing everyone else's award.
    earners = {m: q for m, q in quantities.items() if (rule.points * q).quantize(Decimal(1), ROUND_HALF_UP) != 0}
    transactions: dict[uuid.UUID, uuid.UUID | None] = dict.fromkeys(paid)
    if earners:
        items = [AwardItem(m, q, f"activity:{activity.id}:{m}") for m, q in earners.items()]
        posted = await ledger.award_many(items, rule, f"活动: {activity.title}")
        transactions.update({p.member_id: p.transaction_id for p in posted})
        result.points_total = sum(p.points for p in posted)
    result.attended = [(m, paid[m], transaction) for m, transaction in transactions.items()]
    result.no_shows = [m for m, s in signups.items() if s.checked_in_at is None and m not in paid]
    if activity.penalty_rule_id is not None and result.no_shows:
        await _penalise(repo, activity, await repo.rule(activity.penalty_rule_id), result, ledger)
    return result


async def _penalise(
    repo: ActivityRepository, activity: Activity, penalty: Rule, result: Confirmation, ledger: LedgerService
) -> None:
    """A no-show's penalty cannot take a balance below zero (docs/ledger.md, "no negative
    balance"): those who cannot pay it are listed as skipped rather than holding up everyone else's points."""
    for member_id in result.no_shows:
        try:
            async with savepoint(repo.session):
                posted = await ledger.award(
                    member_id,
                    penalty,
                    Decimal(1),
                    f"活动缺席: {activity.title}",
                    f"activity-no-show:{activity.id}:{member_id}",
                )
            result.penalised.append((member_id, posted.transaction_id))
        except InsufficientPoints:
            result.penalty_skipped.append(member_id)
