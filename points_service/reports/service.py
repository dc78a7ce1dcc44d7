"""Problem reports: a member (or someone acting for them) files one in their unit; staff who reach the
handling unit accept it (the reporter is paid once, `report:<id>:accepted`), escalate it to the parent
unit (one level at a time: the org tree is the ladder building → area → community → street → district),
reject it with a reason, or resolve it (the member credited is paid once, `report:<id>:resolved`).
Every act is kept as an event, so anyone can see how a report travelled."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import aliased

from points_service.earning import EarningService
from points_service.errors import DomainError, InvalidInput, NotFound
from points_service.inbox.notices import Notice, notify
from points_service.ledger.service import LedgerService, Posted
from points_service.org.models import Member, OrgUnit
from points_service.org.reach import Subtree
from points_service.reports.models import ProblemReport, ReportEvent

ONE = Decimal(1)


class WrongReportStatus(DomainError):
    code = "wrong_status"
    title = "The report is not in a state that allows this"


class TopLevel(DomainError):
    code = "top_level"
    title = "The report is already at the top of the org tree"


class OwnReport(DomainError):
    status_code = 403
    code = "own_report"
    title = "Nobody accepts or resolves their own report"


@dataclass(frozen=True)
class ReportStats:
    collected: int
    accepted: int
    in_progress: int
    resolved: int
    rejected: int
    escalated: int
    disputes: int
    disputes_resolved: int
    by_category: dict[str, int]

    @property
    def dispute_resolution_rate(self) -> float | None:
        return round(self.disputes_resolved / self.disputes, 4) if self.disputes else None


class ReportService(EarningService):
    async def file(self, member_id: uuid.UUID | None, category: str, place: str, description: str) -> ProblemReport:
        acting = await self._proxies.acting_for(member_id)
        unit_id = await self._session.scalar(
            select(Member.org_unit_id).where(Member.tenant_id == self._tenant_id, Member.id == acting.member_id)
        )
        assert unit_id is not None
        report = ProblemReport(
            id=uuid.uuid4(),
            tenant_id=self._tenant_id,
            reported_unit_id=unit_id,
            handling_unit_id=unit_id,
            member_id=acting.member_id,
            filed_by=self._principal.account_id,
            category=category,
            place=place,
            description=description,
            status="submitted",
        )
        self._session.add(report)
        await self._session.flush()
        self._record(report, "filed", None)
        await self._session.flush()
        return report

    async def for_photos(self, report_id: uuid.UUID) -> ProblemReport:
        """The report, locked so photos are numbered one upload at a time, if the caller filed it (or it
        is theirs) and nobody has decided it yet."""
        report = await self._session.scalar(
            select(ProblemReport)
            .where(ProblemReport.tenant_id == self._tenant_id, ProblemReport.id == report_id)
            .with_for_update()
        )
        if report is None or (
            report.filed_by != self._principal.account_id
            and (self._principal.member_id is None or report.member_id != self._principal.member_id)
        ):
            raise NotFound(f"No such report: {report_id}")
        if report.status != "submitted":
            raise WrongReportStatus(f"The report is {report.status}: photos go with a new report")
        return report

    def _record(
        self, report: ProblemReport, action: str, note: str | None, transaction_id: uuid.UUID | None = None
    ) -> None:
        self._session.add(
            ReportEvent(
                id=uuid.uuid4(),
                tenant_id=self._tenant_id,
                report_id=report.id,
                action=action,
                actor_id=self._principal.account_id,
                unit_id=report.handling_unit_id,
                note=note,
                transaction_id=transaction_id,
            )
        )

    async def _tell_reporter(self, report: ProblemReport, answer: str | None) -> None:
        """The reporter's message that staff decided (accepted, rejected, resolved), in the decision's
        transaction."""
        params = {"title": report.place, "outcome": report.status, "answer": answer, "report_id": str(report.id)}
        await notify(self._session, self._tenant_id, [Notice(report.member_id, "report_answered", params)])

    def _in_scope(self, scope: Subtree) -> Select[tuple[ProblemReport]]:
        reported, handling = aliased(OrgUnit), aliased(OrgUnit)
        return (
            select(ProblemReport)
            .join(
                reported,
                (reported.tenant_id == ProblemReport.tenant_id) & (reported.id == ProblemReport.reported_unit_id),
            )
            .join(
                handling,
                (handling.tenant_id == ProblemReport.tenant_id) & (handling.id == ProblemReport.handling_unit_id),
            )
            .where(ProblemReport.tenant_id == self._tenant_id)
            .where(or_(scope.clause(reported.path), scope.clause(handling.path)))
        )

    async def visible(self, report_id: uuid.UUID) -> ProblemReport:
        """Staff: reports raised in their subtree or handled there now. Members: their own."""
        if self._principal.role == "member":
            report = await self._session.scalar(
                select(ProblemReport).where(
                    ProblemReport.tenant_id == self._tenant_id,
                    ProblemReport.id == report_id,
                    ProblemReport.member_id == self._principal.member_id,
                )
            )
        else:
            statement = self._in_scope(await self._org.reach())
            report = await self._session.scalar(statement.where(ProblemReport.id == report_id))
        if report is None:
            raise NotFound(f"No such report: {report_id}")
        return report

    async def listed(
        self,
        status: str | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        org_unit_id: uuid.UUID | None = None,
    ) -> list[ProblemReport]:
        """Members: their own, newest first. Staff: raised or handled in their subtree (or a unit's
        within it), oldest first."""
        if self._principal.role == "member":
            statement = select(ProblemReport).where(
                ProblemReport.tenant_id == self._tenant_id, ProblemReport.member_id == self._principal.member_id
            )
            order = (ProblemReport.created_at.desc(), ProblemReport.id.desc())
            if after is not None:
                statement = statement.where(func.row(ProblemReport.created_at, ProblemReport.id) < func.row(*after))
        else:
            statement = self._in_scope(await self._org.reach(within=org_unit_id))
            order = (ProblemReport.created_at, ProblemReport.id)  # staff work oldest first
            if after is not None:
                statement = statement.where(func.row(ProblemReport.created_at, ProblemReport.id) > func.row(*after))
        if status is not None:
            statement = statement.where(ProblemReport.status == status)
        return list(await self._session.scalars(statement.order_by(*order).limit(limit + 1)))

    async def events(self, report_id: uuid.UUID) -> list[ReportEvent]:
        await self.visible(report_id)
        return list(
            await self._session.scalars(
                select(ReportEvent)
                .where(ReportEvent.tenant_id == self._tenant_id, ReportEvent.report_id == report_id)
                .order_by(ReportEvent.created_at, ReportEvent.id)
            )
        )

    async def _handled_here(self, report_id: uuid.UUID) -> ProblemReport:
        """The report, locked, if the caller's subtree holds the unit handling it now."""
        report = await self._session.scalar(
            select(ProblemReport)
            .where(ProblemReport.tenant_id == self._tenant_id, ProblemReport.id == report_id)
            .with_for_update()
        )
        if report is None:
            raise NotFound(f"No such report: {report_id}")
        if not (await self._org.reach()).covers(await self._org.unit_path(report.handling_unit_id)):
            # Seen (raised below them) but escalated past them: they may read it, not decide it.
            await self.visible(report_id)
            raise WrongReportStatus("The report has been escalated above your unit")
        if report.member_id == self._principal.member_id:
            raise OwnReport()
        return report

    async def accept(
        self, report_id: uuid.UUID, rule_code: str | None, ledger: LedgerService
    ) -> tuple[ProblemReport, Posted | None]:
        report = await self._handled_here(report_id)
        if report.status != "submitted":
            raise WrongReportStatus(f"The report is {report.status}")
        posted = None
        if rule_code:
            rule = await self._rules.by_code(rule_code)
            posted = await ledger.award(
                report.member_id, rule, ONE, f"民情上报: {report.place}", f"report:{report.id}:accepted"
            )
        report.status = "accepted"
        report.accepted_at = datetime.now(UTC)
        self._record(report, "accepted", None, posted.transaction_id if posted else None)
        await self._session.flush()
        await self._tell_reporter(report, None)
        return report, posted

    async def escalate(self, report_id: uuid.UUID, note: str | None) -> ProblemReport:
        report = await self._handled_here(report_id)
        if report.status not in ("submitted", "accepted"):
            raise WrongReportStatus(f"The report is {report.status}")
        parent_id = await self._session.scalar(
            select(OrgUnit.parent_id).where(OrgUnit.tenant_id == self._tenant_id, OrgUnit.id == report.handling_unit_id)
        )
        if parent_id is None:
            raise TopLevel()
        report.handling_unit_id = parent_id
        self._record(report, "escalated", note)
        await self._session.flush()
        return report

    async def reject(self, report_id: uuid.UUID, reason: str) -> ProblemReport:
        report = await self._handled_here(report_id)
        if report.status != "submitted":
            raise WrongReportStatus(f"The report is {report.status}")
        report.status = "rejected"
        self._record(report, "rejected", reason.strip())
        await self._session.flush()
        await self._tell_reporter(report, reason.strip())
        return report

    async def resolve(
        self,
        report_id: uuid.UUID,
        resolution: str,
        rule_code: str | None,
        credited_member_id: uuid.UUID | None,
        ledger: LedgerService,
    ) -> tuple[ProblemReport, Posted | None]:
        report = await self._handled_here(report_id)
        if report.status not in ("submitted", "accepted"):
            raise WrongReportStatus(f"The report is {report.status}")
        credited = credited_member_id or report.member_id
        if credited_member_id is not None:
            await self._org.member_in_reach(credited_member_id)
        posted = None
        if rule_code:
            rule = await self._rules.by_code(rule_code)
            posted = await ledger.award(
                credited, rule, ONE, f"民情办结: {report.place}", f"report:{report.id}:resolved"
            )
        report.status = "resolved"
        report.accepted_at = report.accepted_at or datetime.now(UTC)
        report.resolved_at = datetime.now(UTC)
        report.resolution = resolution.strip()
        report.resolved_by_member_id = credited
        self._record(report, "resolved", report.resolution, posted.transaction_id if posted else None)
        await self._session.flush()
        await self._tell_reporter(report, report.resolution)
        return report, posted

    async def stats(self, unit_id: uuid.UUID, first: date, last: date) -> ReportStats:
        """Reports raised in the subtree on tenant-local days first…last, as they stand now."""
        if last < first or last - first > timedelta(days=3660):
            raise InvalidInput("to", "must be on or after `from`, within ten years")
        subtree = await self._org.reach(within=unit_id)
        start = datetime.combine(first, time(), self._clock.zone)
        end = datetime.combine(last + timedelta(days=1), time(), self._clock.zone)
        escalated = (
            select(ReportEvent.id)
            .where(
                ReportEvent.tenant_id == ProblemReport.tenant_id,
                ReportEvent.report_id == ProblemReport.id,
                ReportEvent.action == "escalated",
            )
            .exists()
        )
        dispute = ProblemReport.category == "dispute"
        rows = (
            await self._session.execute(
                select(
                    ProblemReport.category,
                    func.count(),
                    func.count().filter(ProblemReport.status == "accepted"),
                    func.count().filter(ProblemReport.status == "resolved"),
                    func.count().filter(ProblemReport.status == "rejected"),
                    func.count().filter(escalated),
                    func.count().filter(ProblemReport.status.in_(("submitted", "accepted"))),
                    func.sum(case((dispute & (ProblemReport.status == "resolved"), 1), else_=0)),
                )
                .join(
                    OrgUnit,
                    (OrgUnit.tenant_id == ProblemReport.tenant_id) & (OrgUnit.id == ProblemReport.reported_unit_id),
                )
                .where(ProblemReport.tenant_id == self._tenant_id)
                .where(subtree.clause(OrgUnit.path))
                .where(ProblemReport.created_at >= start, ProblemReport.created_at < end)
                .group_by(ProblemReport.category)
            )
        ).all()
        by_category = {row[0]: int(row[1]) for row in rows}
        return ReportStats(
            collected=sum(by_category.values()),
            accepted=sum(int(row[2]) for row in rows),
            resolved=sum(int(row[3]) for row in rows),
            rejected=sum(int(row[4]) for row in rows),
            escalated=sum(int(row[5]) for row in rows),
            in_progress=sum(int(row[6]) for row in rows),
            disputes=by_category.get("dispute", 0),
            disputes_resolved=sum(int(row[7] or 0) for row in rows),
            by_category=by_category,
        )
