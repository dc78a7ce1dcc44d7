"""A small demo community so a newcomer sees something real: `points-service demo`."""

from __future__ import annotations

import random
import uuid
from datetime import time
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from points_service.auth.accounts import create_login
from points_service.auth.models import LoginAccount
from points_service.auth.principal import Principal
from points_service.bootstrap import ensure_tenant
from points_service.duty.service import DutyService
from points_service.duty.shifts import WeeklySchedule
from points_service.earning import earning_context
from points_service.ledger.repository import LedgerRepository
from points_service.ledger.service import LedgerService
from points_service.org.service import OrgService
from points_service.rules.service import RuleService
from points_service.tenancy.periods import TenantClock

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


async def load_demo(session: AsyncSession, tenant_name: str, admin_username: str, admin_password: str) -> str:
    existing = await session.scalar(
        select(LoginAccount.id).where(func.lower(LoginAccount.username) == admin_username.lower())
    )
    if existing is not None:
        return f"demo already loaded (user {admin_username!r} exists); nothing changed"
    randomness = random.Random(7)
    tenant = await ensure_tenant(session, tenant_name)
    admin = await create_login(session, tenant.id, admin_username, admin_password, "admin")
    principal = Principal(account_id=admin.id, tenant_id=tenant.id, role="admin")
    org = OrgService(session, principal)
    ledger = LedgerService(LedgerRepository(session, tenant.id), TenantClock(tenant.timezone), admin.id)
    rules = {
        code: await RuleService(session, tenant.id).create(code, name, category, points, unit, daily, monthly, False)
        for code, name, category, points, unit, daily, monthly in RULES
    }

    community = await org.create_unit("红旗社区党委", "community", None)
    member_ids = []
    for area_number in range(1, 3):
        area = await org.create_unit(f"第{area_number}居民区党组织", "area", community.id)
        for branch_number in range(1, 3):
            branch = await org.create_unit(f"{area_number}-{branch_number}小区党支部", "branch", area.id)
            for group_number in range(1, 3):
                group = await org.create_unit(f"{group_number}号楼党小组", "group", branch.id)
                for _ in range(5):
                    index = len(member_ids) + 1
                    name = randomness.choice(SURNAMES) + randomness.choice(GIVEN)
                    member = await org.create_member(
                        ledger,
                        name,
                        f"1380000{index:04d}",
                        group.id,
                        randomness.choice(["none", "in_service", "retired", "mobile"]),
                        randomness.choice(CADRES) if index % 6 == 0 else None,
                        f"demo{index}" if index <= 3 else None,
                        "demo-password" if index <= 3 else None,
                    )
                    member_ids.append(member.id)
    staff = await create_login(session, tenant.id, "demo-staff", "demo-password", "staff", org_unit_id=community.id)
    awards = 0
    for member_id in member_ids:
        for code in randomness.sample(["VOL_HOUR", "CIVILITY_WATCH", "MEDIATION", "MICRO_WISH", "MEETING"], 3):
            quantity = Decimal(randomness.choice([1, 2, 3])) if code == "VOL_HOUR" else Decimal(1)
            await ledger.award(member_id, rules[code], quantity, "演示数据")
            awards += 1
    await ledger.bulk_award(member_ids[:10], rules["REPORT"], Decimal(1), "演示: 批量奖励")
    shifts = await load_posts(session, principal, TenantClock(tenant.timezone), community.id, member_ids)
    return (
        f"demo loaded: tenant {tenant.name!r}, 15 org units, {len(member_ids)} members, {len(RULES)} rules, "
        f"{awards + 10} awards, {len(POSTS)} posts, {shifts} shifts\n"
        f"sign in as admin {admin_username!r} / {admin_password!r}, staff {staff.username!r} / 'demo-password', "
        f"members 'demo1'..'demo3' / 'demo-password'"
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
