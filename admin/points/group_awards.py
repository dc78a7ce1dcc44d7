"""Staff awards written by group commit: `POST /admin/awards` of concurrent requests in one
database transaction (points_service/database/group_commit.py says why), each answered alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from litestar import Response
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.database.group_commit import GroupCommit
from points_service.deps import ledger_for
from points_service.errors import DomainError, MemberInactive, NotFound
from points_service.idempotency.service import REPLAY, KeyClaim, claim_each, record_each, respond
from points_service.ledger.schemas import PointsPosted, points_posted
from points_service.ledger.service import CallerAward, LedgerService
from points_service.org.reach import staff_reach
from points_service.org.service import member_places, unit_paths
from points_service.rules.service import RuleService


@dataclass(frozen=True)
class StaffAward:
    """`POST /admin/awards` of one caller, waiting to be written with others (group commit)."""

    principal: Principal
    member_id: uuid.UUID
    rule_code: str
    quantity: Decimal
    note: str | None
    claim: KeyClaim | None = None


async def award_together(
    session: AsyncSession, tenant_id: uuid.UUID, ledger: LedgerService, awards: list[StaffAward]
) -> list[PointsPosted | str | DomainError]:
    """Staff awards of concurrent requests in one transaction, each checked as if it were alone
    (its key, its member in the caller's reach, its rule, then the ledger's caps and balances) and
    answered alone."""
    claims = [award.claim for award in awards]
    going = await claim_each(session, tenant_id, claims)
    answers: list[PointsPosted | str | DomainError | None] = [None if ahead else REPLAY for ahead in going]
    pending = [index for index, answer in enumerate(answers) if answer is None]
    staff_units = {awards[i].principal.org_unit_id for i in pending if not awards[i].principal.is_admin}
    scopes = await unit_paths(session, tenant_id, [unit for unit in staff_units if unit is not None])
    places = await member_places(session, tenant_id, [awards[i].member_id for i in pending])
    rules = await RuleService(session, tenant_id).by_codes({awards[i].rule_code for i in pending})
    to_post: list[int] = []
    for index in pending:
        award = awards[index]
        try:
            place = places.get(award.member_id)
            staff_reach(award.principal, scopes).require(
                place.path if place is not None else None, f"No such member: {award.member_id}"
            )
            if place is not None and not place.active:
                raise MemberInactive(f"Member {award.member_id} is switched off")
            if award.rule_code not in rules:
                raise NotFound(f"No such rule: {award.rule_code}")
        except DomainError as refusal:
            answers[index] = refusal
            continue
        to_post.append(index)
    posted = await ledger.award_each(
        [
            CallerAward(
                awards[i].member_id,
                rules[awards[i].rule_code],
                awards[i].quantity,
                awards[i].note,
                awards[i].principal.account_id,
            )
            for i in to_post
        ]
    )
    for index, result in zip(to_post, posted, strict=True):
        answers[index] = result if isinstance(result, DomainError) else points_posted(result)

    await record_each(session, tenant_id, claims, answers, going)
    return [answer for answer in answers if answer is not None]


StaffAwardBatches = GroupCommit[StaffAward, "PointsPosted | str"]


def staff_award_batches(state: State) -> StaffAwardBatches:
    async def write(session: AsyncSession, tenant_id: Any, awards: list[StaffAward]) -> list[Any]:
        ledger = await ledger_for(state, session, tenant_id, actor_account_id=None)
        return await award_together(session, tenant_id, ledger, awards)

    return GroupCommit(state.session_factory, write, name="awards")


async def award(state: State, award: StaffAward) -> Response[PointsPosted]:
    """Write one staff award with whatever others are waiting; its answer, or the stored answer of
    its Idempotency-Key. A refusal raises."""
    batches: StaffAwardBatches = state.staff_award_batches
    answer = await batches.submit(award.principal.tenant_id, award)
    return await respond(answer, award.claim, award.principal.tenant_id, state.read_session_factory)
