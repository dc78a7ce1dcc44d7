"""`points-service demo --scale district`: a district shaped like the ones Red Points
is built for (55 communities, thousands of members), so that rankings, evaluations and warnings are
tried on real volumes.

One district, its streets, 55 communities, each with residential areas, compound branches and
building groups; thousands of members (in-service, retired and mobile Party members, residents),
cadres in their positions; then a year of earned points whose skew is that of real communities: a
few very active volunteers, many who take part now and then, a quiet tail, some penalties and some
reversed awards.

Every point goes through LedgerService: awards in batches (`award_many`, up to 1,000 members, one
rule and one day each) with a clock pinned to the day the work was done, committed month by month
so a large district does not become one enormous transaction.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.auth.accounts import create_login
from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.bootstrap import create_tenant
from points_service.demo import CADRES, GIVEN, RULES, SURNAMES
from points_service.errors import DomainError
from points_service.exports import xlsx_bytes
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import MAX_BULK_MEMBERS, AwardItem, LedgerService
from points_service.org.imports import MEMBER_COLUMNS, PARTY_LABELS, RosterImport
from points_service.org.models import Member
from points_service.org.service import OrgService
from points_service.org.sheets import read_sheet
from points_service.rules.models import Rule
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock, month_start

COMMUNITIES = 55
STREET_COMMUNITIES = 8  # a street (街道) oversees about eight communities
AREAS_PER_COMMUNITY = 3
BRANCHES_PER_AREA = 3
GROUPS_PER_BRANCH = 3
DEFAULT_MEMBERS = 8000
SHEET_ROWS = 5000  # members per generated roster sheet (an import takes up to 20,000 rows)
# Party status mix of the people who earn points (residents count too: volunteers need no party card).
PARTY_STATUSES = [("in_service", 0.35), ("retired", 0.30), ("mobile", 0.05), ("none", 0.30)]
# Awards per month by how active a member is; the shares are those of the source documents' habit
# ("a few very active, most now and then"): 15 % very active, 45 % now and then, 40 % quiet.
ACTIVITY_LEVELS = [(0.15, 6.0), (0.45, 1.5), (0.40, 0.15)]
EARNING_RULES = ["VOL_HOUR", "CIVILITY_WATCH", "MEDIATION", "SANITATION", "MICRO_WISH", "REPORT", "MEETING"]


@dataclass(frozen=True)
class PinnedClock(TenantClock):
    """A clock stopped on one day: the demo posts last year's work on the day it was done. Only a
    trusted caller builds one; the HTTP API always posts today."""

    day: date = date(2000, 1, 1)

    def today(self, now: object = None) -> date:
        return self.day


@dataclass
class DistrictSummary:
    tenant_name: str
    units: int
    members: int
    transactions: int
    penalties: int
    reversals: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"district demo loaded in {self.seconds:.0f} s: tenant {self.tenant_name!r}, {self.units} org units, "
            f"{self.members} members, {self.transactions} ledger transactions over 12 months "
            f"({self.penalties} penalties, {self.reversals} reversals)\n"
            "sign in as admin 'district-admin' / 'demo-password'\n"
            "members have no logins yet: export a unit's members in the console (成员 → 导出) and import the "
            "sheet again with 为没有账号的成员开通登录 ticked, which prints a slip per member"
        )


Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True) as bar:
        yield bar.update


@contextmanager
def no_progress(_label: str, _total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _steps: None


async def load_district(
    sessions: async_sessionmaker[AsyncSession],
    members: int = DEFAULT_MEMBERS,
    progress: Progress = progress_bar,
    communities: int = COMMUNITIES,
    seed: int = 2026,
    today: date | None = None,
) -> DistrictSummary | str:
    started = time.monotonic()
    randomness = random.Random(seed)
    async with sessions() as session, session.begin():
        if await session.scalar(select(LoginAccount.id).where(func.lower(LoginAccount.username) == "district-admin")):
            return "district demo already loaded (user 'district-admin' exists); nothing changed"
        tenant = await create_tenant(session, "示范区 (district demo)")
        admin = await create_login(session, tenant.id, "district-admin", "demo-password", "admin")
        tenant_id, admin_id, timezone = tenant.id, admin.id, tenant.timezone
        rules = {
            code: await RuleService(session, tenant_id).create(code, name, category, points, unit, None, None, False)
            for code, name, category, points, unit, _, _ in RULES
        }
    principal = Principal(account_id=admin_id, tenant_id=tenant_id, role="admin")
    district_id, groups, branches, units = await _org_tree(sessions, principal, communities, progress)
    people = await _members(sessions, principal, district_id, groups, branches, members, randomness, progress)
    today = today or TenantClock(timezone).today()
    transactions, penalties, reversals = await _a_year_of_points(
        sessions, tenant_id, admin_id, timezone, rules, people, today, randomness, progress
    )
    return DistrictSummary(
        "示范区 (district demo)",
        units,
        len(people),
        transactions,
        penalties,
        reversals,
        time.monotonic() - started,
    )


async def _org_tree(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, communities: int, progress: Progress
) -> tuple[uuid.UUID, list[str], list[str], int]:
    """The tree; the building groups' and the branches' paths of names below the district, as a
    roster sheet names them (所属组织)."""
    groups: list[str] = []
    branches: list[str] = []
    units = 0
    async with sessions() as session, session.begin():
        org = OrgService(session, principal)
        district = await org.create_unit("示范区区委", "district", None)
        street_names = [
            f"第{number}街道党工委"
            for number in range(1, (communities + STREET_COMMUNITIES - 1) // STREET_COMMUNITIES + 1)
        ]
        streets = [(await org.create_unit(name, "street", district.id)).id for name in street_names]
        district_id = district.id
        units += 1 + len(streets)
    with progress("org tree (communities)", communities) as advance:
        for community_number in range(1, communities + 1):
            async with sessions() as session, session.begin():
                org = OrgService(session, principal)
                street_index = (community_number - 1) // STREET_COMMUNITIES
                street = streets[street_index]
                community_name = f"第{community_number}社区党委"
                community = await org.create_unit(community_name, "community", street)
                units += 1
                for area_number in range(1, AREAS_PER_COMMUNITY + 1):
                    area_name = f"{community_number}-{area_number}居民区党组织"
                    area = await org.create_unit(area_name, "area", community.id)
                    units += 1
                    for branch_number in range(1, BRANCHES_PER_AREA + 1):
                        branch_name = f"{branch_number}号小区党支部"
                        branch = await org.create_unit(branch_name, "branch", area.id)
                        branch_path = f"{street_names[street_index]}/{community_name}/{area_name}/{branch_name}"
                        branches.append(branch_path)
                        units += 1
                        for group_number in range(1, GROUPS_PER_BRANCH + 1):
                            group_name = f"{group_number}号楼党小组"
                            await org.create_unit(group_name, "group", branch.id)
                            groups.append(f"{branch_path}/{group_name}")
                            units += 1
            advance(1)
    return district_id, groups, branches, units


async def _members(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    district_id: uuid.UUID,
    groups: list[str],
    branches: list[str],
    count: int,
    randomness: random.Random,
    progress: Progress,
) -> list[tuple[uuid.UUID, float]]:
    """Members spread over the building groups, each with how many awards a month they earn.

    They come in as a street office's roster would: a generated spreadsheet, read and written by the
    same import as an upload in the console (points_service/org/imports.py), in sheets of SHEET_ROWS."""
    statuses = [status for status, _ in PARTY_STATUSES]
    weights = [share for _, share in PARTY_STATUSES]
    rows: list[list[object]] = []
    rates: dict[str, float] = {}
    for index in range(count):
        # Every fourth member is a branch secretary until each branch has one; other
        # cadres are spread thinly.
        if index % 4 == 0 and index // 4 < len(branches):
            unit, cadre = branches[index // 4], "支部书记"
        else:
            unit = groups[index % len(groups)]
            cadre = randomness.choice(CADRES[1:]) if randomness.random() < 0.08 else None
        status = "in_service" if cadre else randomness.choices(statuses, weights)[0]
        name = randomness.choice(SURNAMES) + randomness.choice(GIVEN)
        phone = f"15{index:09d}"
        rows.append([name, phone, unit, PARTY_LABELS[status], cadre or "", ""])
        rates[phone] = _monthly_rate(randomness, cadre is not None)
    people: list[tuple[uuid.UUID, float]] = []
    with progress("members (imported from a roster sheet)", count) as advance:
        for first in range(0, count, SHEET_ROWS):
            chunk = rows[first : first + SHEET_ROWS]
            sheet = read_sheet(xlsx_bytes("成员", MEMBER_COLUMNS, chunk), "district-roster.xlsx")
            async with sessions() as session, session.begin():
                org = OrgService(session, principal)
                await RosterImport(session, principal, org).import_members(sheet, district_id, False, False)
                found = await session.execute(
                    select(Member.phone, Member.id).where(
                        Member.tenant_id == principal.tenant_id, Member.phone.in_([row[1] for row in chunk])
                    )
                )
                ids = {phone: member_id for phone, member_id in found}
            people.extend((ids[str(row[1])], rates[str(row[1])]) for row in chunk)
            advance(len(chunk))
    return people


def _monthly_rate(randomness: random.Random, cadre: bool) -> float:
    draw = randomness.random()
    for share, rate in ACTIVITY_LEVELS:
        if draw < share:
            return rate * (1.5 if cadre else 1.0)
        draw -= share
    return ACTIVITY_LEVELS[-1][1]


async def _a_year_of_points(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    admin_id: uuid.UUID,
    timezone: str,
    rules: dict[str, Rule],
    people: list[tuple[uuid.UUID, float]],
    today: date,
    randomness: random.Random,
    progress: Progress,
) -> tuple[int, int, int]:
    this_month = month_start(today)
    months = [_months_before(this_month, back) for back in range(11, -1, -1)]
    transactions = penalties = reversals = 0
    with progress("a year of points (months)", len(months)) as advance:
        for month in months:
            last_day = today if month == month_start(today) else (month + timedelta(days=32)).replace(day=1)
            # Community work happens on weekends (活动日): posting it on the month's Saturdays also keeps
            # the awards in few, large batches.
            saturdays = [
                day
                for day in (month + timedelta(days=offset) for offset in range(max((last_day - month).days, 1)))
                if day.weekday() == 5
            ] or [month]
            # (day, rule, quantity) -> members: one award_many per key and up to 1,000 members.
            batches: dict[tuple[date, str, Decimal], list[uuid.UUID]] = defaultdict(list)
            for member_id, rate in people:
                for _ in range(_poisson(randomness, rate)):
                    day = randomness.choice(saturdays)
                    code = randomness.choice(EARNING_RULES)
                    quantity = Decimal(randomness.choice([1, 2, 3])) if code == "VOL_HOUR" else Decimal(1)
                    batches[(day, code, quantity)].append(member_id)
            awarded: list[tuple[uuid.UUID, uuid.UUID]] = []
            async with sessions() as session, session.begin():
                repository = LedgerRepository(session, tenant_id)
                for (day, code, quantity), member_ids in sorted(batches.items()):
                    ledger = LedgerService(repository, PinnedClock(timezone, day), admin_id)
                    for group in _rounds(member_ids):
                        for first in range(0, len(group), MAX_BULK_MEMBERS):
                            chunk = group[first : first + MAX_BULK_MEMBERS]
                            posted = await ledger.award_many(
                                [AwardItem(m, quantity) for m in chunk], rules[code], "示范区历史数据"
                            )
                            transactions += len(posted)
                            awarded.extend((p.transaction_id, p.member_id) for p in posted)
                end_of_month = last_day - timedelta(days=1)
                ledger = LedgerService(repository, PinnedClock(timezone, end_of_month), admin_id)
                # A few misconduct penalties and wrongly entered awards, as every year has; each in a
                # savepoint so one member who cannot carry a penalty does not undo the month.
                for transaction_id, _ in randomness.sample(awarded, min(max(1, len(awarded) // 400), len(awarded))):
                    try:
                        async with session.begin_nested():
                            await ledger.reverse(transaction_id, "录入错误，冲正")
                        reversals += 1
                        transactions += 1
                    except DomainError:
                        pass
                for _, member_id in randomness.sample(awarded, min(max(1, len(awarded) // 300), len(awarded))):
                    try:
                        async with session.begin_nested():
                            await ledger.award(member_id, rules["MISCONDUCT"], Decimal(1), "值守期间脱岗")
                        penalties += 1
                        transactions += 1
                    except DomainError:
                        pass
            advance(1)
    return transactions, penalties, reversals


def _months_before(month: date, back: int) -> date:
    index = month.year * 12 + month.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _rounds(member_ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    """Split into lists of distinct members (one award_many names a member once): a member who did the
    same work twice on one day is in two rounds."""
    rounds: list[list[uuid.UUID]] = []
    seen: dict[uuid.UUID, int] = defaultdict(int)
    for member_id in member_ids:
        round_number = seen[member_id]
        seen[member_id] += 1
        if round_number == len(rounds):
            rounds.append([])
        rounds[round_number].append(member_id)
    return rounds


def _poisson(randomness: random.Random, rate: float) -> int:
    """How many awards a member earns in a month at `rate` a month on average (Knuth's method)."""
    threshold = pow(2.718281828459045, -rate)
    count, product = 0, randomness.random()
    while product > threshold:
        count += 1
        product *= randomness.random()
    return count
