"""A small demo community so a newcomer sees something real: `points-service demo`."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.activities.models import ActivitySignup
from points_service.activities.service import ActivityService
from points_service.activities.tokens import check_in_token
from points_service.auth.accounts import create_login, set_password
from points_service.auth.models import LoginAccount
from points_service.auth.passwords import verify_password
from points_service.auth.principal import Principal
from points_service.bootstrap import ensure_tenant
from points_service.claims.service import ClaimService
from points_service.demo_scene import DemoScene
from points_service.duty.service import DutyService
from points_service.duty.shifts import WeeklySchedule
from points_service.earning import EarningContext, earning_context
from points_service.exports import xlsx_bytes
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.org.imports import MEMBER_COLUMNS, PARTY_LABELS, RosterImport
from points_service.org.models import Member, OrgUnit
from points_service.org.service import OrgService
from points_service.org.sheets import read_sheet
from points_service.registration.service import RegistrationService
from points_service.reports.service import ReportService
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock
from points_service.wishes.service import WishService

RULES = [
    ("VOL_HOUR", "志愿服务(每小时)", "volunteer", 10, "hour", 80, None),
    ("CIVILITY_WATCH", "文明监督岗值守", "duty", 20, "each", 40, 400),
    ("MEDIATION", "民事调解", "duty", 30, "each", None, None),
    ("SANITATION", "环境卫生岗值守", "duty", 15, "each", 30, None),
    ("MICRO_WISH", "认领并完成微心愿", "wish", 50, "each", None, 200),
    ("REPORT", "民情上报被采纳", "report", 10, "each", 30, None),
    ("MEETING", "参加组织生活会", "meeting", 5, "each", 5, None),
    ("MISCONDUCT", "违反值守纪律", "penalty", -20, "each", None, None),
    ("DUTY_HOUR", "岗位值守(每小时)", "duty", 10, "hour", 40, None),
]
# One community's seven posts (as a real community runs them), each with its duty and schedule (定岗定责定时).
POSTS = [
    ("文明监督岗", "劝导乱扔垃圾、乱停车等不文明行为", "每周六 9:00-11:00"),
    ("民事调解岗", "调解邻里纠纷, 记录调解结果", "每周三 14:00-16:00"),
    ("环境卫生岗", "巡查楼道和公共区域卫生", "每周六 8:00-10:00"),
    ("安全信息岗", "巡查消防通道、电动车充电等安全隐患并上报", "每周五 19:00-21:00"),
    ("便民服务岗", "为老人代购代办、测血压、修小家电", "每周日 9:00-11:00"),
    ("敲门问帮岗", "走访独居老人和困难家庭, 记录需求", "每周四 15:00-17:00"),
    ("移风易俗岗", "宣传婚事新办、丧事简办, 劝导燃放烟花", "每月最后一个周六 9:00-11:00"),
]
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "红梅",
]
CADRES = ["支部书记", "楼栋长", "单元长", "网格员", "红色小管家"]


DEMO_COMMUNITY = "红旗社区党委"  # the demo's marker: a tenant holding this community has the demo
DEMO_PASSWORD = "demo-password"  # noqa: S105 (a demo's published password, printed for the newcomer)
# A rule that waits for staff approval, so the approvals queue has claims in it.
APPROVAL_RULE = ("GOOD_DEED", "好人好事(需审核)", "volunteer", 20, "each", None, None)
# The check-in codes the demo itself shows and scans; never the service's own secret.
DEMO_CHECK_IN_SECRET = "demo-check-in"  # noqa: S105
PAGES = {"admin": "/admin/", "staff": "/admin/", "clerk": "/merchant/", "member": "/member/"}
ROLE_WORDS = {"admin": "管理员 admin", "staff": "社区工作人员 staff", "clerk": "店员 clerk", "member": "成员 member"}
DemoPart = Callable[[DemoScene], Awaitable[None]]


def package_parts() -> list[DemoPart]:
    """Each package's part of the demo (the marketplace's shops), found through the composition root."""
    from points_service.app import plugins

    return [plugin.demo for plugin in plugins()]


async def load_demo(
    session: AsyncSession,
    tenant_name: str,
    admin_username: str,
    admin_password: str,
    prefix: str = "demo",
    parts: Sequence[DemoPart] | None = None,
) -> str:
    """The demo community in the tenant `tenant_name`, unless it is there already. An admin who exists
    already (the one `serve` made at start-up) is kept, with their own password, and does the loading."""
    tenant = await ensure_tenant(session, tenant_name)
    marker = await session.scalar(
        select(OrgUnit.id).where(
            OrgUnit.tenant_id == tenant.id, OrgUnit.name == DEMO_COMMUNITY, OrgUnit.kind == "community"
        )
    )
    if marker is not None:
        logins = await login_table(session, tenant.id, marker, admin_username, admin_password, prefix)
        return f"demo already loaded in tenant {tenant.name!r}; nothing changed\n{logins}"
    admin = await session.scalar(
        select(LoginAccount).where(func.lower(LoginAccount.username) == admin_username.lower())
    )
    if admin is None:
        admin = await create_login(session, tenant.id, admin_username, admin_password, "admin")
    elif admin.tenant_id != tenant.id or admin.role != "admin":
        # Raised, not returned: the transaction rolls back, so no empty tenant is left behind.
        raise click.ClickException(
            f"user {admin_username!r} exists but is not an admin of {tenant.name!r}: name another --admin-username"
        )
    randomness = random.Random(7)
    clock = TenantClock(tenant.timezone)
    principal = Principal(account_id=admin.id, tenant_id=tenant.id, role="admin")
    org = OrgService(session, principal)
    ledger = LedgerService(LedgerRepository(session, tenant.id), clock, admin.id)
    rules = {
        code: await RuleService(session, tenant.id).create(code, name, category, points, unit, daily, monthly, False)
        for code, name, category, points, unit, daily, monthly in RULES
    }
    code, name, category, points, unit, daily, monthly = APPROVAL_RULE
    await RuleService(session, tenant.id).create(code, name, category, points, unit, daily, monthly, True)

    community = await org.create_unit(DEMO_COMMUNITY, "community", None)
    groups = []
    for area_number in range(1, 3):
        area_name = f"第{area_number}居民区党组织"
        area = await org.create_unit(area_name, "area", community.id)
        for branch_number in range(1, 3):
            branch_name = f"{area_number}-{branch_number}小区党支部"
            branch = await org.create_unit(branch_name, "branch", area.id)
            for group_number in range(1, 3):
                group_name = f"{group_number}号楼党小组"
                await org.create_unit(group_name, "group", branch.id)
                groups.append(f"{area_name}/{branch_name}/{group_name}")
    member_ids, signers = await import_members(session, principal, org, community.id, groups, randomness, prefix)
    await create_login(session, tenant.id, f"{prefix}-staff", DEMO_PASSWORD, "staff", org_unit_id=community.id)
    awards = 0
    for member_id in member_ids:
        for code in randomness.sample(["VOL_HOUR", "CIVILITY_WATCH", "MEDIATION", "MICRO_WISH", "MEETING"], 3):
            quantity = Decimal(randomness.choice([1, 2, 3])) if code == "VOL_HOUR" else Decimal(1)
            await ledger.award(member_id, rules[code], quantity, "演示数据")
            awards += 1
    await ledger.bulk_award(member_ids[:10], rules["REPORT"], Decimal(1), "演示: 批量奖励")
    shifts = await load_posts(session, principal, clock, community.id, member_ids)
    scene = DemoScene(session, principal, org, ledger, clock, community.id, member_ids, prefix, DEMO_PASSWORD)
    await load_community_life(scene, clock, signers)
    for part in package_parts() if parts is None else parts:
        await part(scene)
    logins = await login_table(session, tenant.id, community.id, admin_username, admin_password, prefix)
    return (
        f"demo loaded: tenant {tenant.name!r}, 15 org units, {len(member_ids)} members, {len(RULES) + 1} rules, "
        f"{awards + 10} awards, {len(POSTS)} posts, {shifts} shifts; activities, wishes, reports, claims, "
        f"a proxy, shops, an evaluation\n{logins}"
    )


async def import_members(
    session: AsyncSession,
    principal: Principal,
    org: OrgService,
    community_id: uuid.UUID,
    groups: list[str],
    randomness: random.Random,
    prefix: str,
) -> tuple[list[uuid.UUID], dict[uuid.UUID, uuid.UUID]]:
    """Forty members from a roster sheet, through the console's import; then the members who sign in
    get their logins as the import gives them (create_logins), with the demo's password instead of a
    temporary one. Returns the member ids in sheet order and the login of each member who has one.

    The first four are the tour's: 1 an in-service member registered with the community (双报到),
    2 a retired member appointed to act for 3, an elder without a phone login (代办), 4 an in-service
    member who has not registered yet."""
    fixed = {0: "in_service", 1: "retired", 2: "retired", 3: "in_service"}
    rows: list[list[object]] = []
    for index in range(40):
        name = randomness.choice(SURNAMES) + randomness.choice(GIVEN)
        status = fixed.get(index) or randomness.choice(["none", "in_service", "retired", "mobile"])
        cadre = randomness.choice(CADRES) if index % 6 == 5 else ""
        rows.append([name, f"1380000{index + 1:04d}", groups[index // 5], PARTY_LABELS[status], cadre, ""])
    roster = RosterImport(session, principal, org)
    await roster.import_members(
        read_sheet(xlsx_bytes("成员", MEMBER_COLUMNS, rows), "demo.xlsx"), community_id, False, False
    )
    with_login = [
        [*row[:5], f"{prefix}{number}"] for number, row in zip((1, 2, 3), (rows[0], rows[1], rows[3]), strict=True)
    ]
    outcome = await roster.import_members(
        read_sheet(xlsx_bytes("成员", MEMBER_COLUMNS, with_login), "demo-logins.xlsx"), community_id, False, True
    )
    signers = {}
    for login in outcome.logins or []:
        account = await session.scalar(select(LoginAccount).where(LoginAccount.username == login.username))
        assert account is not None and login.member_id is not None
        await set_password(session, account, DEMO_PASSWORD, temporary=False)
        signers[login.member_id] = account.id
    ids = dict(
        (
            await session.execute(
                select(Member.phone, Member.id).where(
                    Member.tenant_id == principal.tenant_id, Member.phone.in_([row[1] for row in rows])
                )
            )
        ).all()
    )
    return [ids[row[1]] for row in rows], signers


async def load_community_life(scene: DemoScene, clock: TenantClock, signers: dict[uuid.UUID, uuid.UUID]) -> None:
    """What members and staff do in a week: activities (one under way, one over and waiting for its
    attendance to be confirmed), micro-wishes in each state, problem reports in each state, claims waiting
    for approval, a 双报到 registration and a proxy (代办). Each through its service, as the member (or
    staff) would through the API."""
    session, admin = scene.session, scene.principal
    staff_side = earning_context(session, admin, clock)
    ids = scene.member_ids
    first, proxy, elder, unregistered = ids[0], ids[1], ids[2], ids[3]

    def as_member(member_id: uuid.UUID) -> EarningContext:
        me = Principal(account_id=signers[member_id], tenant_id=admin.tenant_id, role="member", member_id=member_id)
        return earning_context(session, me, clock)

    await RegistrationService(staff_side).register(first, scene.community_id, "区税务局", None)
    await staff_side.proxies.appoint(proxy, elder, None)

    now = datetime.now(UTC)
    staff_activities = ActivityService(staff_side, DEMO_CHECK_IN_SECRET)
    running = await staff_activities.create(
        {
            "org_unit_id": scene.community_id,
            "title": "敬老院陪伴志愿服务",
            "description": "陪老人聊天、读报, 打扫活动室",
            "place": "红旗社区敬老院",
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(hours=2),
            "capacity": 20,
            "rule_code": "VOL_HOUR",
        }
    )
    await ActivityService(as_member(first), DEMO_CHECK_IN_SECRET).sign_up(running.id, None)
    await ActivityService(as_member(first), DEMO_CHECK_IN_SECRET).check_in(
        running.id, check_in_token(DEMO_CHECK_IN_SECRET, running.id, now), None, None, None
    )
    # The proxy signs the elder up (代办): the sign-up shows who acted.
    await ActivityService(as_member(proxy), DEMO_CHECK_IN_SECRET).sign_up(running.id, elder)
    for member_id in ids[4:8]:
        await staff_activities.sign_up(running.id, member_id)

    finished = await staff_activities.create(
        {
            "org_unit_id": scene.community_id,
            "title": "楼道清洁日",
            "description": "清理楼道杂物, 张贴消防提示",
            "place": "各楼栋",
            "starts_at": now - timedelta(minutes=5),
            "ends_at": now + timedelta(hours=2),
            "capacity": 30,
            "rule_code": "VOL_HOUR",
        }
    )
    attendees = [first, unregistered, *ids[8:14]]
    for member_id in attendees:
        await staff_activities.sign_up(finished.id, member_id)
    # Yesterday's activity: members sign up only to what is still ahead, so it is created now, filled,
    # then moved to yesterday; the check-ins are those members' scans of the day.
    yesterday = now - timedelta(days=1)
    await staff_activities.update(
        finished.id,
        {"starts_at": yesterday - timedelta(hours=3), "ends_at": yesterday, "capacity": 30, "rule_code": "VOL_HOUR"},
    )
    signups = await session.scalars(
        select(ActivitySignup).where(
            ActivitySignup.tenant_id == admin.tenant_id,
            ActivitySignup.activity_id == finished.id,
            ActivitySignup.member_id.in_(attendees[:-1]),  # the last one never came
        )
    )
    for signup in signups:
        signup.checked_in_at = yesterday - timedelta(hours=3)
        signup.checked_out_at = yesterday - timedelta(hours=1)
    await session.flush()

    wishes = WishService(staff_side)
    posted = []
    for title, resident in [
        ("帮独居老人更换楼道灯泡", "李奶奶"),
        ("陪行动不便的老人去医院复诊", "张大爷"),
        ("给留守儿童辅导数学作业", "小刘"),
        ("帮忙搬运过冬的大白菜", "王阿姨"),
        ("教老人用手机视频通话", "赵大爷"),
    ]:
        fields = {"org_unit_id": scene.community_id, "title": title, "description": "", "resident_name": resident}
        posted.append(await wishes.post(fields, "MICRO_WISH"))
    await WishService(as_member(first)).claim(posted[2].id, None)  # claimed, under way
    await WishService(as_member(proxy)).claim(posted[3].id, None)
    await WishService(as_member(proxy)).fulfil(posted[3].id, "已帮王阿姨把白菜搬到地下室", None)  # awaits staff
    await wishes.claim(posted[4].id, ids[4])
    await wishes.fulfil(posted[4].id, "教会了视频通话和看天气", ids[4])
    await wishes.verify(posted[4].id, None, scene.ledger)  # verified and paid

    reports = ReportService(staff_side)
    mine = ReportService(as_member(first))
    await mine.file(None, "hazard", "2号楼一单元楼道", "楼道里堆放纸箱, 堵住了消防通道")  # waits to be accepted
    await reports.file(ids[5], "dispute", "3号楼", "楼上漏水, 邻里协商未果")
    accepted = await reports.file(ids[6], "facility", "小区东门", "路灯不亮已有一周")
    await reports.accept(accepted.id, None, scene.ledger)
    resolved = await mine.file(None, "sanitation", "垃圾分类点", "垃圾桶满溢无人清运")
    await reports.resolve(resolved.id, "已联系环卫当天清运", "REPORT", None, scene.ledger)
    rejected = await reports.file(ids[7], "other", "小区广场", "广场舞音乐太吵")
    await reports.reject(rejected.id, "已在居民议事会上协商时段, 不作为问题上报")

    await ClaimService(as_member(first)).file(None, "GOOD_DEED", Decimal(1), "拾到钱包交还失主")
    await ClaimService(staff_side).file(ids[9], "GOOD_DEED", Decimal(1), "雪后主动清扫单元门口")


async def login_table(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    community_id: uuid.UUID,
    admin_username: str,
    admin_password: str,
    prefix: str,
) -> str:
    """The demo's logins as a table: username, password, who, which page to open; then the public board."""
    found = (
        await session.execute(
            select(LoginAccount, Member.name)
            .outerjoin(Member, (Member.tenant_id == LoginAccount.tenant_id) & (Member.id == LoginAccount.member_id))
            .where(
                LoginAccount.tenant_id == tenant_id,
                (func.lower(LoginAccount.username) == admin_username.lower())
                | LoginAccount.username.startswith(f"{prefix}-")
                | LoginAccount.username.regexp_match(f"^{prefix}[0-9]+$"),
            )
        )
    ).all()
    order = list(PAGES)
    found.sort(key=lambda row: (order.index(row[0].role) if row[0].role in order else 9, row[0].username))
    lines = []
    for account, member_name in found:
        if account.username.lower() == admin_username.lower():
            known = await verify_password(account.password_hash, admin_password)
            password = admin_password if known else "(your own password)"
        else:
            password = DEMO_PASSWORD
        who = ROLE_WORDS.get(account.role, account.role) + (f" · {member_name}" if member_name else "")
        lines.append((account.username, password, who, PAGES.get(account.role, "/")))
    width = max(len(line[0]) for line in lines) + 2
    table = [f"{'username':<{width}}{'password':<22}open        who"]
    table += [f"{name:<{width}}{password:<22}{page:<12}{who}" for name, password, who, page in lines]
    return (
        "Logins (fixed demo passwords, published here: this data folder is for trying the product only):\n"
        + "\n".join(table)
        + f"\n{prefix}1 is registered with the community (双报到); {prefix}2 acts for an elder (代办); "
        f"{prefix}3 is in service but has not registered yet. The tour: docs/tour.md.\n"
        "The other members have no login (the elder signs in through her proxy): to give them one, export "
        "the community's members in the console (成员 → 导出) and import the sheet again with "
        "为没有账号的成员开通登录 ticked, which prints a slip per member.\n"
        f"公示 board (public, no sign-in): /public/units/{community_id}"
    )


async def load_posts(
    session: AsyncSession,
    principal: Principal,
    clock: TenantClock,
    community_id: uuid.UUID,
    member_ids: list[uuid.UUID],
) -> int:
    """The seven posts, the first six held by a demo member each with four weekly shifts ahead; the
    seventh is left without a holder, so the warnings page has something to say."""
    duty = DutyService(earning_context(session, principal, clock))
    weekdays = [6, 3, 6, 5, 7, 4]
    shifts = 0
    for index, (name, task, schedule) in enumerate(POSTS):
        post = await duty.create_post(community_id, name, task, schedule, "DUTY_HOUR")
        if index >= len(weekdays):
            continue
        claim = await duty.claim_post(post.id, member_ids[index])
        await duty.decide_post_claim(claim.id, True, None)
        pattern = WeeklySchedule(weekdays[index], time(9), time(11), clock.today(), 4)
        shifts += len(await duty.schedule(post.id, member_ids[index], duty.weekly(pattern)))
    return shifts
