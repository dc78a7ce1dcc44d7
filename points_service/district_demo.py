"""`points-service demo --scale district`: a district shaped like the ones Red Points
is built for, so that rankings, evaluations, warnings and the console's statistics are tried on real
volumes.

Its figures are those of the district the source documents describe (`SEEDS`): 55 communities, 162
residential areas, 519 buildings (building groups), 3,747 in-service Party members registered with
their communities (双报到) of whom 3,218 took part in an activity this year, 796 problem reports of
which 733 are handled, 3,700 micro-wishes claimed. Each is a record made through the services a
member or staff member uses (registrations, activities with sign-ups and confirmed attendance, reports
with staff decisions, wishes posted and claimed), so the console counts them rather than being told.
Around them: thousands of members (in-service, retired and mobile Party members, residents), cadres
in their positions, and a year of earned points whose skew is that of real communities: a few very
active volunteers, many who take part now and then, a quiet tail, some penalties and some reversed
awards.

Every point goes through LedgerService: awards in batches (`award_many`, up to 1,000 members, one
rule and one day each) with a clock pinned to the day the work was done, committed month by month
so a large district does not become one enormous transaction.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from points_service.activities.confirmation import Attendee
from points_service.activities.service import ActivityService
from points_service.auth.accounts import create_login
from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.bootstrap import create_tenant
from points_service.demo import CADRES, GIVEN, RULES, SURNAMES
from points_service.earning import EarningContext, earning_context
from points_service.errors import DomainError
from points_service.exports import xlsx_bytes
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import MAX_BULK_MEMBERS, AwardItem, LedgerService
from points_service.org.imports import MEMBER_COLUMNS, PARTY_LABELS, RosterImport
from points_service.org.models import Member
from points_service.org.service import OrgService
from points_service.org.sheets import read_sheet
from points_service.registration.service import RegistrationService
from points_service.reports.service import ReportService
from points_service.rules.models import Rule
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock, month_start
from points_service.wishes.service import WishService

STREET_COMMUNITIES = 8  # a street (街道) oversees about eight communities
BRANCHES_PER_AREA = 3  # compound branches (小区党支部) an area's buildings are shared among
DEFAULT_MEMBERS = 8000
SHEET_ROWS = 5000  # members per generated roster sheet (an import takes up to 20,000 rows)
# Party status mix of the people who earn points (residents count too: volunteers need no party card).
# Half in service, so the 3,747 registrations of the seeds come from about 4,000 in-service members
# and a few hundred are left unregistered for the warnings to name.
PARTY_STATUSES = [("in_service", 0.50), ("retired", 0.25), ("mobile", 0.05), ("none", 0.20)]
DEMO_CHECK_IN_SECRET = "district-demo-check-in"  # noqa: S105
LIFE_CONCURRENCY = 4  # communities loaded at once (the CLI's pool holds four connections)


@dataclass(frozen=True)
class DistrictFigures:
    """What the district holds. The default is the seeds' district; tests load a small one."""

    communities: int = 55
    areas: int = 162
    buildings: int = 519
    registered: int = 3747  # in-service members registered with their community (双报到)
    took_part: int = 3218  # of them, those who attended an activity this year
    reports: int = 796
    handled: int = 733  # resolved; the rest are accepted and in progress
    wishes_claimed: int = 3700

    def __post_init__(self) -> None:
        if not (
            1 <= self.communities <= self.areas <= self.buildings
            and self.took_part <= self.registered
            and self.handled <= self.reports
        ):
            raise ValueError(f"inconsistent district figures: {self}")


SEEDS = DistrictFigures()
COMMUNITIES = SEEDS.communities
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
    life: str = ""
    phases: str = ""

    def __str__(self) -> str:
        return (
            f"district demo loaded in {self.seconds:.0f} s ({self.phases}):\n"
            f"tenant {self.tenant_name!r}, {self.units} org units, "
            f"{self.members} members, {self.transactions} ledger transactions over 12 months "
            f"({self.penalties} penalties, {self.reversals} reversals)\n"
            f"{self.life}\n"
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
    figures: DistrictFigures = SEEDS,
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
    phases: list[str] = []
    mark = time.monotonic()

    def lap(name: str) -> None:
        nonlocal mark
        phases.append(f"{name} {time.monotonic() - mark:.0f} s")
        mark = time.monotonic()

    tree = await _org_tree(sessions, principal, figures, progress)
    people = await _members(sessions, principal, tree, members, randomness, progress)
    lap("org tree and members")
    today = today or TenantClock(timezone).today()
    transactions, penalties, reversals = await _a_year_of_points(
        sessions, tenant_id, admin_id, timezone, rules, [(p.id, p.rate) for p in people], today, randomness, progress
    )
    lap("a year of points")
    life = await _community_life(sessions, principal, timezone, tree, people, figures, randomness, progress)
    lap("community life")
    return DistrictSummary(
        "示范区 (district demo)",
        tree.units,
        len(people),
        transactions,
        penalties,
        reversals,
        time.monotonic() - started,
        str(life),
        ", ".join(phases),
    )


@dataclass
class Tree:
    """The district's units as the loader needs them: the building groups' and branches' paths of
    names below the district (as a roster sheet names them, 所属组织), and the community each lies in."""

    district_id: uuid.UUID
    groups: list[str]
    branches: list[str]
    community_of: dict[str, uuid.UUID]
    communities: list[uuid.UUID]
    units: int


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    rate: float  # awards a month
    community_id: uuid.UUID
    in_service: bool


def spread(total: int, over: int) -> list[int]:
    """`total` shared over `over` places as evenly as whole numbers allow (the first ones get the
    remainder)."""
    base, extra = divmod(total, over)
    return [base + (1 if index < extra else 0) for index in range(over)]


async def _org_tree(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, figures: DistrictFigures, progress: Progress
) -> Tree:
    communities = figures.communities
    areas_per_community = spread(figures.areas, communities)
    buildings_per_area = spread(figures.buildings, figures.areas)
    groups: list[str] = []
    branches: list[str] = []
    community_of: dict[str, uuid.UUID] = {}
    community_ids: list[uuid.UUID] = []
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
    area_index = 0
    with progress("org tree (communities)", communities) as advance:
        for community_number in range(1, communities + 1):
            async with sessions() as session, session.begin():
                org = OrgService(session, principal)
                street_index = (community_number - 1) // STREET_COMMUNITIES
                street = streets[street_index]
                community_name = f"第{community_number}社区党委"
                community = await org.create_unit(community_name, "community", street)
                community_ids.append(community.id)
                units += 1
                for area_number in range(1, areas_per_community[community_number - 1] + 1):
                    area_name = f"{community_number}-{area_number}居民区党组织"
                    area = await org.create_unit(area_name, "area", community.id)
                    units += 1
                    buildings = buildings_per_area[area_index]
                    area_index += 1
                    # The area's buildings shared among its compound branches, each branch one or more.
                    for branch_number, branch_buildings in enumerate(
                        spread(buildings, min(BRANCHES_PER_AREA, buildings)), start=1
                    ):
                        branch_name = f"{branch_number}号小区党支部"
                        branch = await org.create_unit(branch_name, "branch", area.id)
                        branch_path = f"{street_names[street_index]}/{community_name}/{area_name}/{branch_name}"
                        branches.append(branch_path)
                        community_of[branch_path] = community.id
                        units += 1
                        for group_number in range(1, branch_buildings + 1):
                            group_name = f"{branch_number}-{group_number}号楼党小组"
                            await org.create_unit(group_name, "group", branch.id)
                            groups.append(f"{branch_path}/{group_name}")
                            community_of[groups[-1]] = community.id
                            units += 1
            advance(1)
    return Tree(district_id, groups, branches, community_of, community_ids, units)


async def _members(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    tree: Tree,
    count: int,
    randomness: random.Random,
    progress: Progress,
) -> list[Person]:
    """Members spread over the building groups, each with how many awards a month they earn.

    They come in as a street office's roster would: a generated spreadsheet, read and written by the
    same import as an upload in the console (points_service/org/imports.py), in sheets of SHEET_ROWS."""
    groups, branches = tree.groups, tree.branches
    statuses = [status for status, _ in PARTY_STATUSES]
    weights = [share for _, share in PARTY_STATUSES]
    rows: list[list[object]] = []
    facts: dict[str, tuple[float, uuid.UUID, bool]] = {}
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
        facts[phone] = (_monthly_rate(randomness, cadre is not None), tree.community_of[unit], status == "in_service")
    people: list[Person] = []
    with progress("members (imported from a roster sheet)", count) as advance:
        for first in range(0, count, SHEET_ROWS):
            chunk = rows[first : first + SHEET_ROWS]
            sheet = read_sheet(xlsx_bytes("成员", MEMBER_COLUMNS, chunk), "district-roster.xlsx")
            async with sessions() as session, session.begin():
                org = OrgService(session, principal)
                await RosterImport(session, principal, org).import_members(sheet, tree.district_id, False, False)
                found = await session.execute(
                    select(Member.phone, Member.id).where(
                        Member.tenant_id == principal.tenant_id, Member.phone.in_([row[1] for row in chunk])
                    )
                )
                ids = {phone: member_id for phone, member_id in found}
            people.extend(Person(ids[str(row[1])], *facts[str(row[1])]) for row in chunk)
            advance(len(chunk))
    return people


@dataclass
class Life:
    registered: int = 0
    took_part: int = 0
    activities: int = 0
    reports: int = 0
    handled: int = 0
    wishes_claimed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.registered} in-service members registered (双报到), {self.took_part} of them at "
            f"{self.activities} activities this year; {self.reports} problem reports ({self.handled} handled); "
            f"{self.wishes_claimed} micro-wishes claimed"
        )


WORKPLACES = ["区税务局", "区人民医院", "区实验小学", "区供电公司", "区市场监管局", "区城管执法局", "区农商银行"]
REPORT_KINDS = [
    ("hazard", "楼道堆放杂物, 堵住消防通道"),
    ("facility", "路灯不亮已有一周"),
    ("sanitation", "垃圾桶满溢无人清运"),
    ("dispute", "楼上漏水, 邻里协商未果"),
    ("other", "小区广场车辆乱停"),
]
WISHES = [
    ("帮独居老人更换楼道灯泡", "李奶奶"),
    ("陪行动不便的老人去医院复诊", "张大爷"),
    ("给留守儿童辅导数学作业", "小刘"),
    ("帮忙搬运过冬的大白菜", "王阿姨"),
    ("教老人用手机视频通话", "赵大爷"),
]


async def _community_life(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    timezone: str,
    tree: Tree,
    people: list[Person],
    figures: DistrictFigures,
    randomness: random.Random,
    progress: Progress,
) -> Life:
    """The seeds' figures as records, one community (one transaction) at a time, each made by the
    service staff use through the API: 双报到 registrations; an activity of the community whose
    attendance staff confirm (which pays through the ledger); reports filed for members and decided by
    staff; wishes posted for residents and claimed by members."""
    registered = [person for person in people if person.in_service][: figures.registered]
    took_part = {person.id for person in registered[: figures.took_part]}
    by_community: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for person in people:
        by_community[person.community_id].append(person)
    registering: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for person in registered:
        registering[person.community_id].append(person)
    communities = [c for c in tree.communities if by_community[c]]
    report_counts = spread(figures.reports, len(communities))
    handled_counts = spread(figures.handled, len(communities))
    wish_counts = spread(figures.wishes_claimed, len(communities))
    clock = TenantClock(timezone)
    life = Life()
    # Each community its own random stream, drawn up front, so the district is the same whatever
    # order the concurrent communities finish in.
    streams = [random.Random(randomness.getrandbits(64)) for _ in communities]
    # Communities touch disjoint members and the ledger has no hot row, so a few load at once: the
    # work is mostly round trips to the database, which overlap.
    gate = asyncio.Semaphore(LIFE_CONCURRENCY)

    async def one_community(index: int, community_id: uuid.UUID, advance: Callable[[int], None]) -> None:
        chance = streams[index]
        async with gate, sessions() as session, session.begin():
            staff = earning_context(session, principal, clock)
            ledger = LedgerService(LedgerRepository(session, principal.tenant_id), clock, principal.account_id)
            residents = by_community[community_id]
            registrations = RegistrationService(staff)
            for person in registering[community_id]:
                await registrations.register(person.id, community_id, chance.choice(WORKPLACES), None)
            attendees = [person.id for person in registering[community_id] if person.id in took_part]
            if attendees:
                await _an_activity(staff, ledger, community_id, index + 1, attendees)
            handled = await _reports(staff, ledger, residents, report_counts[index], handled_counts[index], chance)
            claimed = await _wishes(staff, community_id, residents, wish_counts[index], chance)
        life.registered += len(registering[community_id])
        life.activities += 1 if attendees else 0
        life.took_part += len(attendees)
        life.reports += report_counts[index]
        life.handled += handled
        life.wishes_claimed += claimed
        advance(1)

    with progress("community life (communities)", len(communities)) as advance:
        await asyncio.gather(
            *(one_community(index, community_id, advance) for index, community_id in enumerate(communities))
        )
    return life


async def _an_activity(
    staff: EarningContext, ledger: LedgerService, community_id: uuid.UUID, number: int, attendees: list[uuid.UUID]
) -> None:
    """The community's volunteer day for its registered in-service members: created, signed up to,
    and its attendance confirmed by staff, which pays each attendee through the ledger in one batch.
    It runs today (members sign up only to what is still ahead) and so falls in this year."""
    now = datetime.now(UTC)
    year_start = datetime.combine(staff.clock.today().replace(month=1, day=1), datetime.min.time(), staff.clock.zone)
    activities = ActivityService(staff, DEMO_CHECK_IN_SECRET)
    activity = await activities.create(
        {
            "org_unit_id": community_id,
            "title": f"第{number}社区在职党员志愿服务日",
            "description": "在职党员回社区报到服务: 清理楼道, 走访独居老人",
            "place": f"第{number}社区党群服务中心",
            "starts_at": max(now - timedelta(hours=2), year_start),
            "ends_at": now + timedelta(hours=1),
            "capacity": len(attendees),
            "rule_code": "VOL_HOUR",
        }
    )
    for member_id in attendees:
        await activities.sign_up(activity.id, member_id)
    await activities.confirm(activity.id, [Attendee(member_id) for member_id in attendees], ledger)


async def _reports(
    staff: EarningContext,
    ledger: LedgerService,
    residents: list[Person],
    count: int,
    handled: int,
    randomness: random.Random,
) -> int:
    """`count` reports filed for the community's members; staff resolve `handled` of them and accept
    the rest (in progress). A reporter is rewarded for their first resolved report only, within the
    rule's daily cap."""
    reports = ReportService(staff)
    reporters = [residents[i % len(residents)].id for i in randomness.sample(range(max(count, len(residents))), count)]
    rewarded: set[uuid.UUID] = set()
    for number, member_id in enumerate(reporters):
        category, description = randomness.choice(REPORT_KINDS)
        report = await reports.file(member_id, category, f"{randomness.randint(1, 30)}号楼", description)
        if number < handled:
            rule = None if member_id in rewarded else "REPORT"
            rewarded.add(member_id)
            await reports.resolve(report.id, "已协调相关部门处理完毕", rule, None, ledger)
        else:
            await reports.accept(report.id, None, ledger)
    return min(handled, count)


async def _wishes(
    staff: EarningContext, community_id: uuid.UUID, residents: list[Person], count: int, randomness: random.Random
) -> int:
    """`count` wishes posted for the community's residents, each claimed by one of its members."""
    wishes = WishService(staff)
    for _ in range(count):
        title, resident = randomness.choice(WISHES)
        wish = await wishes.post(
            {"org_unit_id": community_id, "title": title, "description": "", "resident_name": resident}, "MICRO_WISH"
        )
        await wishes.claim(wish.id, randomness.choice(residents).id)
    return count


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
