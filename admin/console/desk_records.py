"""What the console's desk screens read that no service offers as such: members to choose from under a
unit, the units of the caller's reach to post work in, and what each proxy (代办员) did for whom."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.principal import Principal
from points_service.duty.models import Post
from points_service.org.models import Member, OrgUnit
from points_service.org.reach import Subtree

CHOICES = 500
ACTS_SHOWN = 200


@dataclass(frozen=True)
class ProxyAct:
    """One thing a proxy did for a member, as staff read it."""

    at: datetime
    kind: str  # the words' key: what was done
    member_id: uuid.UUID
    member_name: str
    what: str


class DeskRecords:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._tenant_id = principal.tenant_id

    async def members_under(self, path: str, named: str | None = None) -> list[tuple[uuid.UUID, str, str]]:
        """(id, name, unit name) of the members in a subtree, by name: who a form may name. A large
        subtree offers its first CHOICES; `named` narrows it to names containing that text."""
        statement = (
            select(Member.id, Member.name, OrgUnit.name)
            .join(OrgUnit, (OrgUnit.tenant_id == Member.tenant_id) & (OrgUnit.id == Member.org_unit_id))
            .where(Member.tenant_id == self._tenant_id, Subtree(path).clause(OrgUnit.path))
            .order_by(Member.name, Member.id)
            .limit(CHOICES)
        )
        if named:
            statement = statement.where(Member.name.contains(named, autoescape=True))
        rows = await self._session.execute(statement)
        return [(member_id, name, unit_name) for member_id, name, unit_name in rows]

    async def post_names(self, unit_id: uuid.UUID) -> set[str]:
        """The names of a unit's posts (a unit has each name once)."""
        rows = await self._session.scalars(
            select(Post.name).where(Post.tenant_id == self._tenant_id, Post.org_unit_id == unit_id)
        )
        return set(rows)

    async def units_under(self, reach: Subtree) -> list[OrgUnit]:
        """The units of the caller's reach, top first: where new work may be posted."""
        rows = await self._session.scalars(
            select(OrgUnit)
            .where(OrgUnit.tenant_id == self._tenant_id, reach.clause(OrgUnit.path))
            .order_by(OrgUnit.path)
            .limit(CHOICES)
        )
        return list(rows)

    async def proxy_acts(self, proxy_member_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ProxyAct]]:
        """What each proxy did for members other than themselves, newest first: activity sign-ups and
        check-ins, post claims, shift check-ins and check-outs, claims and reports filed for someone."""
        if not proxy_member_ids:
            return {}
        rows = await self._session.execute(
            text(
                """WITH proxies AS (
                       SELECT a.id AS account_id, a.member_id AS proxy_id FROM login_accounts a
                        WHERE a.tenant_id = :tenant AND a.member_id = ANY(:proxies)),
                   acts AS (
                       SELECT p.proxy_id, s.member_id, s.created_at AS at, 'act_signup' AS kind, ac.title AS what
                         FROM activity_signups s JOIN proxies p ON p.account_id = s.acted_by
                         JOIN activities ac ON ac.tenant_id = s.tenant_id AND ac.id = s.activity_id
                        WHERE s.tenant_id = :tenant
                       UNION ALL
                       SELECT p.proxy_id, s.member_id, s.checked_in_at, 'act_check_in', ac.title
                         FROM activity_signups s JOIN proxies p ON p.account_id = s.checked_in_by
                         JOIN activities ac ON ac.tenant_id = s.tenant_id AND ac.id = s.activity_id
                        WHERE s.tenant_id = :tenant
                       UNION ALL
                       SELECT p.proxy_id, c.member_id, c.created_at, 'act_post_claim', po.name
                         FROM post_claims c JOIN proxies p ON p.account_id = c.acted_by
                         JOIN posts po ON po.tenant_id = c.tenant_id AND po.id = c.post_id
                        WHERE c.tenant_id = :tenant
                       UNION ALL
                       SELECT p.proxy_id, sh.member_id, sh.checked_in_at, 'act_shift', po.name
                         FROM shifts sh JOIN proxies p ON p.account_id IN (sh.checked_in_by, sh.checked_out_by)
                         JOIN posts po ON po.tenant_id = sh.tenant_id AND po.id = sh.post_id
                        WHERE sh.tenant_id = :tenant
                       UNION ALL
                       SELECT p.proxy_id, c.member_id, c.created_at, 'act_claim', r.name
                         FROM claims c JOIN proxies p ON p.account_id = c.filed_by
                         JOIN rules r ON r.tenant_id = c.tenant_id AND r.id = c.rule_id
                        WHERE c.tenant_id = :tenant
                       UNION ALL
                       SELECT p.proxy_id, pr.member_id, pr.created_at, 'act_report', pr.place
                         FROM problem_reports pr JOIN proxies p ON p.account_id = pr.filed_by
                        WHERE pr.tenant_id = :tenant)
                 SELECT acts.proxy_id, acts.member_id, m.name AS member_name, acts.at, acts.kind, acts.what
                   FROM acts JOIN members m ON m.tenant_id = :tenant AND m.id = acts.member_id
                  WHERE acts.member_id <> acts.proxy_id AND acts.at IS NOT NULL
                  ORDER BY acts.at DESC
                  LIMIT :shown"""
            ),
            {"tenant": self._tenant_id, "proxies": proxy_member_ids, "shown": ACTS_SHOWN},
        )
        acts: dict[uuid.UUID, list[ProxyAct]] = {}
        for row in rows:
            acts.setdefault(row.proxy_id, []).append(
                ProxyAct(row.at, row.kind, row.member_id, row.member_name, row.what or "")
            )
        return acts
