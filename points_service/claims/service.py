"""Claims (积分申报): a member asks for points under a rule that needs approval; staff of the member's
subtree approve (the ledger pays, sourced `claim:<id>`) or reject with a reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from points_service.claims.models import Claim
from points_service.earning import EarningService
from points_service.errors import DomainError, InvalidInput, NotFound
from points_service.ledger.service import LedgerService, Posted, award_points
from points_service.org.models import Member, OrgUnit
from points_service.proxies.service import note_naming_proxy
from points_service.rules.models import Rule


class ApprovalNotRequired(DomainError):
    code = "approval_not_required"
    title = "This rule is not claimed: staff award it directly"


class NotPending(DomainError):
    code = "not_pending"
    title = "The claim has already been decided"


class OwnClaim(DomainError):
    status_code = 403
    code = "own_claim"
    title = "Nobody decides a claim they made or filed"


class ClaimService(EarningService):
    async def file(self, member_id: uuid.UUID | None, rule_code: str, quantity: Decimal, note: str | None) -> Claim:
        acting = await self._proxies.acting_for(member_id)
        rule = await self._rules.by_code(rule_code)
        if not rule.requires_approval:
            raise ApprovalNotRequired()
        award_points(rule, quantity)  # the same limits as the award it asks for, checked now rather than later
        claim = Claim(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            member_id=acting.member_id,
            rule_id=rule.id,
            quantity=quantity,
            note=note,
            status="pending",
            filed_by=self._principal.account_id,
        )
        self._session.add(claim)
        await self._session.flush()
        return claim

    async def mine(self, limit: int, cursor: tuple[datetime, uuid.UUID] | None) -> list[tuple[Claim, str]]:
        assert self._principal.member_id is not None
        statement = (
            select(Claim, Rule.code)
            .join(Rule, (Rule.tenant_id == Claim.tenant_id) & (Rule.id == Claim.rule_id))
            .where(Claim.tenant_id == self._tenant_id, Claim.member_id == self._principal.member_id)
        )
        if cursor is not None:
            statement = statement.where(func.row(Claim.created_at, Claim.id) < func.row(cursor[0], cursor[1]))
        statement = statement.order_by(Claim.created_at.desc(), Claim.id.desc()).limit(limit + 1)
        return [(claim, code) for claim, code in await self._session.execute(statement)]

    async def in_reach(self, claim_id: uuid.UUID, for_update: bool = False) -> tuple[Claim, Rule]:
        statement = (
            select(Claim)
            .join(Member, (Member.tenant_id == Claim.tenant_id) & (Member.id == Claim.member_id))
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .where(Claim.tenant_id == self._tenant_id, Claim.id == claim_id)
            .where((await self._org.reach()).clause(OrgUnit.path))
        )
        if for_update:
            statement = statement.with_for_update(of=Claim)
        claim = await self._session.scalar(statement)
        if claim is None:
            raise NotFound(f"No such claim: {claim_id}")
        return claim, await self._rules.by_id(claim.rule_id)

    def _may_decide(self, claim: Claim) -> None:
        if claim.member_id == self._principal.member_id or claim.filed_by == self._principal.account_id:
            raise OwnClaim()
        if claim.status != "pending":
            raise NotPending(f"The claim is {claim.status}")

    async def approve(self, claim_id: uuid.UUID, ledger: LedgerService) -> tuple[Claim, Posted]:
        # The claim's row lock makes racing approvals queue: the second finds it approved (409), and
        # the unique award source `claim:<id>` would refuse a second payment anyway.
        claim, rule = await self.in_reach(claim_id, for_update=True)
        self._may_decide(claim)
        note = await note_naming_proxy(
            self._session, self._tenant_id, claim.note or rule.name, claim.member_id, [claim.filed_by]
        )
        posted = await ledger.award(claim.member_id, rule, claim.quantity, note, f"claim:{claim.id}")
        claim.status = "approved"
        claim.decided_by = self._principal.account_id
        claim.decided_at = datetime.now(UTC)
        claim.transaction_id = posted.transaction_id
        await self._session.flush()
        return claim, posted

    async def reject(self, claim_id: uuid.UUID, reason: str) -> Claim:
        if not reason.strip():
            raise InvalidInput("reason", "must not be empty")
        claim, _ = await self.in_reach(claim_id, for_update=True)
        self._may_decide(claim)
        claim.status = "rejected"
        claim.reason = reason.strip()
        claim.decided_by = self._principal.account_id
        claim.decided_at = datetime.now(UTC)
        await self._session.flush()
        return claim
