"""Posts (岗位) and the claims of them (认领): staff define posts in their subtree, members claim one
(or someone acts for them), staff of the post's subtree approve or reject, and a holder may give it up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from points_service.duty.models import Post, PostClaim
from points_service.earning import EarningService
from points_service.errors import Conflict, DomainError, InvalidInput, NotFound
from points_service.org.models import Member, OrgUnit
from points_service.rules.models import Rule


class AlreadyClaimed(DomainError):
    code = "already_claimed"
    title = "This member already holds or has claimed this post"


class NotPending(DomainError):
    code = "not_pending"
    title = "The claim has already been decided"


class OwnDecision(DomainError):
    status_code = 403
    code = "own_claim"
    title = "Nobody approves their own claim or verifies their own shift"


class PostInactive(DomainError):
    code = "post_inactive"
    title = "This post is no longer staffed"


class PostService(EarningService):
    async def create_post(self, org_unit_id: uuid.UUID, name: str, duty: str, schedule: str, rule_code: str) -> Post:
        await self._org.unit_in_reach(org_unit_id)
        rule = await self._rules.by_code(rule_code)
        post = Post(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            org_unit_id=org_unit_id,
            name=name,
            duty=duty,
            schedule=schedule,
            rule_id=rule.id,
            created_by=self._principal.account_id,
            active=True,
        )
        self._session.add(post)
        try:
            async with self._session.begin_nested():
                await self._session.flush()
        except IntegrityError as error:
            raise Conflict(f"The unit already has a post named {name}") from error
        return post

    async def _post_with_path(self, post_id: uuid.UUID, for_update: bool = False) -> tuple[Post, str]:
        statement = (
            select(Post, OrgUnit.path)
            .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
            .where(Post.tenant_id == self._tenant_id, Post.id == post_id)
        )
        if for_update:
            statement = statement.with_for_update(of=Post)
        found = (await self._session.execute(statement)).first()
        if found is None:
            raise NotFound(f"No such post: {post_id}")
        return found[0], found[1]

    async def post_in_reach(self, post_id: uuid.UUID) -> Post:
        """Staff: a post of their subtree, else 404."""
        post, path = await self._post_with_path(post_id)
        (await self._org.reach()).require(path, f"No such post: {post_id}")
        return post

    async def visible_post(self, post_id: uuid.UUID, member_id: uuid.UUID | None = None) -> Post:
        member_id = member_id or self._principal.member_id
        if member_id is None:
            return await self.post_in_reach(post_id)
        post, path = await self._post_with_path(post_id)
        if not await self._org.near_member(member_id, path):
            raise NotFound(f"No such post: {post_id}")
        return post

    async def set_active(self, post_id: uuid.UUID, active: bool) -> Post:
        post = await self.post_in_reach(post_id)
        post.active = active
        await self._session.flush()
        return post

    async def posts(
        self,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        org_unit_id: uuid.UUID | None = None,
        active: bool | None = None,
    ) -> list[tuple[Post, str, str, int]]:
        """Posts a member may claim, or a staff subtree's (or that of a unit within it, open or closed
        ones only), each with its unit's name, rule code and number of approved holders; oldest first."""
        holders = (
            select(func.count())
            .where(PostClaim.tenant_id == Post.tenant_id, PostClaim.post_id == Post.id, PostClaim.status == "approved")
            .scalar_subquery()
        )
        statement = (
            select(Post, OrgUnit.name, Rule.code, holders)
            .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
            .join(Rule, (Rule.tenant_id == Post.tenant_id) & (Rule.id == Post.rule_id))
            .where(Post.tenant_id == self._tenant_id)
        )
        if self._principal.role == "member":
            assert self._principal.member_id is not None
            near = await self._org.near_member_clause(self._principal.member_id, OrgUnit.path)
            statement = statement.where(Post.active, near)
        else:
            statement = (await self._org.reach(within=org_unit_id)).filter(statement, OrgUnit.path)
            if active is not None:
                statement = statement.where(Post.active.is_(active))
        if after is not None:
            statement = statement.where(func.row(Post.created_at, Post.id) > func.row(after[0], after[1]))
        statement = statement.order_by(Post.created_at, Post.id).limit(limit + 1)
        return [(post, unit, code, count) for post, unit, code, count in await self._session.execute(statement)]

    async def rule_code(self, post: Post) -> str:
        code = await self._session.scalar(
            select(Rule.code).where(Rule.tenant_id == self._tenant_id, Rule.id == post.rule_id)
        )
        assert code is not None
        return str(code)

    # -- claiming a post (认领) ----------------------------------------------------------------------

    async def claim_post(self, post_id: uuid.UUID, member_id: uuid.UUID | None) -> PostClaim:
        acting = await self._proxies.acting_for(member_id)
        post = await self.visible_post(post_id, acting.member_id)
        if not post.active:
            raise PostInactive()
        claim = PostClaim(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            post_id=post.id,
            member_id=acting.member_id,
            status="pending",
            acted_by=acting.acted_by,
        )
        self._session.add(claim)
        try:
            async with self._session.begin_nested():
                await self._session.flush()
        except IntegrityError as error:
            raise AlreadyClaimed() from error
        return claim

    async def post_claim_in_reach(self, claim_id: uuid.UUID, for_update: bool = False) -> PostClaim:
        statement = (
            select(PostClaim)
            .join(Post, (Post.tenant_id == PostClaim.tenant_id) & (Post.id == PostClaim.post_id))
            .join(OrgUnit, (OrgUnit.tenant_id == Post.tenant_id) & (OrgUnit.id == Post.org_unit_id))
            .where(PostClaim.tenant_id == self._tenant_id, PostClaim.id == claim_id)
            .where((await self._org.reach()).clause(OrgUnit.path))
        )
        if for_update:
            statement = statement.with_for_update(of=PostClaim)
        claim = await self._session.scalar(statement)
        if claim is None:
            raise NotFound(f"No such post claim: {claim_id}")
        return claim

    async def decide_post_claim(self, claim_id: uuid.UUID, approve: bool, reason: str | None) -> PostClaim:
        if not approve and not (reason and reason.strip()):
            raise InvalidInput("reason", "must not be empty")
        claim = await self.post_claim_in_reach(claim_id, for_update=True)
        if claim.member_id == self._principal.member_id:
            raise OwnDecision()
        if claim.status != "pending":
            raise NotPending(f"The claim is {claim.status}")
        claim.status = "approved" if approve else "rejected"
        claim.reason = None if approve else (reason or "").strip()
        claim.decided_by = self._principal.account_id
        claim.decided_at = datetime.now(UTC)
        await self._session.flush()
        return claim

    async def release(self, claim_id: uuid.UUID) -> PostClaim:
        """The holder gives the post up (or staff take it back); future shifts stay on record as scheduled."""
        if self._principal.role == "member":
            claim = await self._session.scalar(
                select(PostClaim)
                .where(PostClaim.tenant_id == self._tenant_id, PostClaim.id == claim_id)
                .with_for_update()
            )
            if claim is None or claim.member_id != self._principal.member_id:
                raise NotFound(f"No such post claim: {claim_id}")
        else:
            claim = await self.post_claim_in_reach(claim_id, for_update=True)
        if claim.status not in ("pending", "approved"):
            raise NotPending(f"The claim is {claim.status}")
        claim.status = "released"
        await self._session.flush()
        return claim

    async def holders(self, post_id: uuid.UUID) -> list[tuple[PostClaim, str]]:
        await self.post_in_reach(post_id)
        rows = await self._session.execute(
            select(PostClaim, Member.name)
            .join(Member, (Member.tenant_id == PostClaim.tenant_id) & (Member.id == PostClaim.member_id))
            .where(PostClaim.tenant_id == self._tenant_id, PostClaim.post_id == post_id)
            .where(PostClaim.status.in_(("pending", "approved")))
            .order_by(PostClaim.created_at, PostClaim.id)
        )
        return [(claim, name) for claim, name in rows]

    async def my_post_claims(self, for_member: uuid.UUID | None = None) -> list[tuple[PostClaim, Post, str]]:
        """My claims (or, a proxy naming them in `for_member`, those of whom I act for) with their posts
        and the posts' rule codes."""
        member_id = (await self._proxies.acting_for(for_member)).member_id
        rows = await self._session.execute(
            select(PostClaim, Post, Rule.code)
            .join(Post, (Post.tenant_id == PostClaim.tenant_id) & (Post.id == PostClaim.post_id))
            .join(Rule, (Rule.tenant_id == Post.tenant_id) & (Rule.id == Post.rule_id))
            .where(PostClaim.tenant_id == self._tenant_id, PostClaim.member_id == member_id)
            .order_by(PostClaim.created_at.desc(), PostClaim.id.desc())
            .limit(200)
        )
        return [(claim, post, code) for claim, post, code in rows]
