"""Micro-wishes: staff or members post a resident's wish; one member at a time claims it (a conditional
UPDATE on `status = 'open'`, so two members pressing at once cannot both hold it), marks it fulfilled
with a note, and staff of the wish's subtree verify it, which pays the claimant once (`wish:<id>`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select, update

from points_service.earning import EarningService
from points_service.errors import DomainError, InvalidInput, NotFound
from points_service.inbox.notices import notify_account
from points_service.ledger.service import LedgerService, Posted
from points_service.org.models import Member, OrgUnit
from points_service.org.names import mask_name
from points_service.rules.models import Rule
from points_service.wishes.models import Wish

ONE = Decimal(1)  # a wish is paid once, as one piece of work


class WishTaken(DomainError):
    code = "wish_taken"
    title = "Another member has already claimed this wish"


class WrongWishStatus(DomainError):
    code = "wrong_status"
    title = "The wish is not in a state that allows this"


class OwnWish(DomainError):
    status_code = 403
    code = "own_wish"
    title = "Nobody verifies a wish they fulfilled"


class WishService(EarningService):
    @property
    def _is_staff(self) -> bool:
        return self._principal.role in ("staff", "admin")

    async def post(self, fields: dict[str, object], rule_code: str | None) -> Wish:
        unit_id = fields["org_unit_id"]
        assert isinstance(unit_id, uuid.UUID)
        if self._is_staff:
            await self._org.unit_in_reach(unit_id)
        else:
            # A member posts for residents of their own unit or below it.
            assert self._principal.member_id is not None
            home = await self._org.member_home(self._principal.member_id)
            home.require(await self._org.unit_path(unit_id), f"No such org unit: {unit_id}")
            rule_code = None  # the rule that pays is staff's choice
        rule = await self._rules.by_code(rule_code) if rule_code else None
        wish = Wish(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            rule_id=rule.id if rule else None,
            posted_by=self._principal.account_id,
            status="open",
            **fields,
        )
        self._session.add(wish)
        await self._session.flush()
        return wish

    async def _with_path(self, wish_id: uuid.UUID) -> tuple[Wish, str]:
        found = (
            await self._session.execute(
                select(Wish, OrgUnit.path)
                .join(OrgUnit, (OrgUnit.tenant_id == Wish.tenant_id) & (OrgUnit.id == Wish.org_unit_id))
                .where(Wish.tenant_id == self._tenant_id, Wish.id == wish_id)
            )
        ).first()
        if found is None:
            raise NotFound(f"No such wish: {wish_id}")
        return found[0], found[1]

    async def visible(self, wish_id: uuid.UUID, member_id: uuid.UUID | None = None) -> Wish:
        wish, path = await self._with_path(wish_id)
        member_id = member_id or (None if self._is_staff else self._principal.member_id)
        if member_id is None:
            reachable = (await self._org.reach()).covers(path)
        else:
            reachable = await self._org.near_member(member_id, path) or wish.claimed_by == member_id
        if not reachable:
            raise NotFound(f"No such wish: {wish_id}")
        return wish

    async def listed(
        self,
        status: str | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        org_unit_id: uuid.UUID | None = None,
    ) -> list[tuple[Wish, str]]:
        """Staff: their subtree's wishes (or a unit's within it). Members: near them, or held by them."""
        statement = (
            select(Wish, OrgUnit.name)
            .join(OrgUnit, (OrgUnit.tenant_id == Wish.tenant_id) & (OrgUnit.id == Wish.org_unit_id))
            .where(Wish.tenant_id == self._tenant_id)
        )
        if self._is_staff:
            statement = (await self._org.reach(within=org_unit_id)).filter(statement, OrgUnit.path)
        else:
            assert self._principal.member_id is not None
            near = await self._org.near_member_clause(self._principal.member_id, OrgUnit.path)
            statement = statement.where(or_(near, Wish.claimed_by == self._principal.member_id))
        if status is not None:
            statement = statement.where(Wish.status == status)
        if after is not None:
            statement = statement.where(func.row(Wish.created_at, Wish.id) > func.row(*after))
        statement = statement.order_by(Wish.created_at, Wish.id).limit(limit + 1)
        return [(wish, unit) for wish, unit in await self._session.execute(statement)]

    async def claim(self, wish_id: uuid.UUID, member_id: uuid.UUID | None) -> Wish:
        acting = await self._proxies.acting_for(member_id)
        await self.visible(wish_id, acting.member_id)
        claimed = await self._session.scalar(
            update(Wish)
            .where(Wish.tenant_id == self._tenant_id, Wish.id == wish_id, Wish.status == "open")
            .values(status="claimed", claimed_by=acting.member_id, claimed_at=func.now())
            .returning(Wish.id)
        )
        wish = await self._locked(wish_id)
        if claimed is None:
            raise WishTaken() if wish.status in ("claimed", "fulfilled", "verified") else WrongWishStatus()
        await self._tell_poster(wish)
        return wish

    async def _tell_poster(self, wish: Wish) -> None:
        """The member who posted the wish (for themselves or as a proxy) hears who took it on; a wish
        staff posted, or one its poster takes on, tells nobody."""
        claimant = await self._session.scalar(
            select(Member.name).where(Member.tenant_id == self._tenant_id, Member.id == wish.claimed_by)
        )
        params = {"title": wish.title, "by": mask_name(claimant or ""), "wish_id": str(wish.id)}
        await notify_account(
            self._session, self._tenant_id, wish.posted_by, "wish_claimed", params, unless=wish.claimed_by
        )

    async def _locked(self, wish_id: uuid.UUID) -> Wish:
        wish = await self._session.scalar(
            select(Wish)
            .where(Wish.tenant_id == self._tenant_id, Wish.id == wish_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert wish is not None
        return wish

    async def _as_claimant(self, wish_id: uuid.UUID, member_id: uuid.UUID | None) -> Wish:
        """The wish, locked, if the caller is its claimant or acts for them (a proxy, staff)."""
        wish = await self.visible(wish_id)
        if self._is_staff:
            locked = await self._locked(wish_id)
            if locked.claimed_by is None:
                raise WrongWishStatus("Nobody has claimed this wish")
            return locked
        acting = await self._proxies.acting_for(member_id or wish.claimed_by)
        locked = await self._locked(wish_id)
        if locked.claimed_by != acting.member_id:
            raise NotFound(f"No such wish: {wish_id}")
        return locked

    async def release(self, wish_id: uuid.UUID, member_id: uuid.UUID | None) -> Wish:
        wish = await self._as_claimant(wish_id, member_id)
        if wish.status != "claimed":
            raise WrongWishStatus(f"The wish is {wish.status}")
        wish.status, wish.claimed_by, wish.claimed_at = "open", None, None
        await self._session.flush()
        return wish

    async def fulfil(self, wish_id: uuid.UUID, note: str, member_id: uuid.UUID | None) -> Wish:
        if not note.strip():
            raise InvalidInput("note", "say what was done")
        wish = await self._as_claimant(wish_id, member_id)
        if wish.status != "claimed":
            raise WrongWishStatus(f"The wish is {wish.status}")
        wish.status = "fulfilled"
        wish.fulfilment_note = note.strip()
        wish.fulfilled_at = datetime.now(UTC)
        await self._session.flush()
        return wish

    async def in_reach(self, wish_id: uuid.UUID) -> Wish:
        wish, path = await self._with_path(wish_id)
        (await self._org.reach()).require(path, f"No such wish: {wish_id}")
        return await self._locked(wish.id)

    async def verify(self, wish_id: uuid.UUID, rule_code: str | None, ledger: LedgerService) -> tuple[Wish, Posted]:
        wish = await self.in_reach(wish_id)
        if wish.claimed_by is not None and wish.claimed_by == self._principal.member_id:
            raise OwnWish()
        if wish.status != "fulfilled":
            raise WrongWishStatus(f"The wish is {wish.status}: only a fulfilled wish is verified")
        if rule_code:
            rule = await self._rules.by_code(rule_code)
        elif wish.rule_id is not None:
            rule = await self._session.scalar(
                select(Rule).where(Rule.tenant_id == self._tenant_id, Rule.id == wish.rule_id)
            )
            assert rule is not None
        else:
            raise InvalidInput("rule_code", "this wish names no rule: choose the rule that pays it")
        assert wish.claimed_by is not None
        posted = await ledger.award(wish.claimed_by, rule, ONE, f"微心愿: {wish.title}", f"wish:{wish.id}")
        wish.status = "verified"
        wish.rule_id = rule.id
        wish.verified_by = self._principal.account_id
        wish.verified_at = datetime.now(UTC)
        wish.transaction_id = posted.transaction_id
        await self._session.flush()
        return wish, posted

    async def send_back(self, wish_id: uuid.UUID, reason: str) -> Wish:
        """Staff find the wish not fulfilled yet: back to the claimant, with the reason in the note."""
        wish = await self.in_reach(wish_id)
        if wish.status != "fulfilled":
            raise WrongWishStatus(f"The wish is {wish.status}")
        wish.status = "claimed"
        wish.fulfilment_note = f"{wish.fulfilment_note}\n[退回] {reason.strip()}"
        wish.fulfilled_at = None
        await self._session.flush()
        return wish

    async def cancel(self, wish_id: uuid.UUID) -> Wish:
        wish = await self.in_reach(wish_id)
        if wish.status not in ("open", "claimed"):
            raise WrongWishStatus(f"The wish is {wish.status}")
        wish.status, wish.claimed_by, wish.claimed_at = "cancelled", None, None
        await self._session.flush()
        return wish
