"""The staff console's shop screens (/admin/shops): the applications waiting for approval, approving or
refusing one with a reason, suspending and reactivating a shop, and the printable invitation for a shop
to apply (the QR code and link of /merchant/apply/<unit>).

Served by the merchants package because shops are its own: the admin package lends the console (its
sign-in, frame, navigation and words) through the composition root (`PackagePlugin.lends`), and this
module adds the screens with their words, so neither package imports the other. The handlers call the
same service as the staff API (MerchantAdminController) with the signed-in staff member's Principal.
The shops' applications also join the staff approvals queue (`SHOP_APPLICATIONS`).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from typing import Any

import segno
from litestar import Controller, Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy import Select, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from merchants.accounts.models import MERCHANT_STATUSES, Merchant
from merchants.accounts.service import MerchantService
from points_service.approvals import PendingQuery, PendingSource
from points_service.auth.principal import Principal
from points_service.deps import provide_ledger, provide_org
from points_service.errors import NotFound
from points_service.org.models import OrgUnit
from points_service.org.reach import Subtree
from points_service.org.service import OrgService
from points_service.state import AppState
from points_service.web import Message, Page

AnyRequest = Request[Any, Any, Any]
SHOPS_PATH = "/admin/shops"
SHOWN = 200

ZH_CN: dict[str, str] = {
    "shops": "商户",
    "shop_applications": "待审核的入驻申请",
    "no_applications": "没有待审核的申请。把“邀请商户入驻”页打印出来交给商户，商户扫码即可申请。",
    "all_shops": "全部商户",
    "no_shops": "还没有商户。打印“邀请商户入驻”页交给商户，商户扫码申请后在这里审核。",
    "shop": "商户",
    "shop_address": "地址",
    "applied_at": "申请时间",
    "shop_status_pending": "待审核",
    "shop_status_active": "已入驻",
    "shop_status_suspended": "已暂停",
    "shop_status_refused": "未通过",
    "approve_shop": "通过",
    "refuse_shop": "不通过",
    "suspend_shop": "暂停",
    "reactivate_shop": "恢复",
    "refuse_reason": "不通过的原因",
    "suspend_reason": "暂停的原因",
    "shop_approved": "已通过，商户现在可以核销兑换码",
    "shop_refused": "已拒绝该申请，原因已告知商户",
    "shop_suspended": "已暂停该商户",
    "shop_reactivated": "已恢复该商户",
    "shop_wrong_status": "商户当前的状态不能这样操作",
    "invite_shop": "邀请商户入驻",
    "invite_title": "欢迎加入{unit}红色积分商户",
    "invite_text": "用手机扫描二维码，或在浏览器打开下面的链接，填写店名、地址和登录账号即可申请。"
    "社区审核通过后，党员群众就能在本店用积分兑换商品和服务。",
    "invite_for": "邀请哪个组织的商户",
    "print": "打印",
}

EN: dict[str, str] = {
    "shops": "Shops",
    "shop_applications": "Applications waiting for approval",
    "no_applications": "No application is waiting. Print the 'Invite a shop' page for a shop: it applies by "
    "scanning it.",
    "all_shops": "All shops",
    "no_shops": "No shop yet. Print the 'Invite a shop' page for a shop; once it applies, approve it here.",
    "shop": "Shop",
    "shop_address": "Address",
    "applied_at": "Applied",
    "shop_status_pending": "Waiting for approval",
    "shop_status_active": "Active",
    "shop_status_suspended": "Suspended",
    "shop_status_refused": "Refused",
    "approve_shop": "Approve",
    "refuse_shop": "Refuse",
    "suspend_shop": "Suspend",
    "reactivate_shop": "Reactivate",
    "refuse_reason": "Why it is refused",
    "suspend_reason": "Why it is suspended",
    "shop_approved": "Approved: the shop can now accept codes",
    "shop_refused": "Application refused; the shop is told why",
    "shop_suspended": "Shop suspended",
    "shop_reactivated": "Shop reactivated",
    "shop_wrong_status": "Not possible in the shop's current state",
    "invite_shop": "Invite a shop",
    "invite_title": "Join Red Points in {unit}",
    "invite_text": "Scan the QR code with a phone, or open the link below, and fill in the shop's name, address "
    "and a login. Once the community approves, members can spend their points at your shop.",
    "invite_for": "Invite shops of",
    "print": "Print",
}

WORDS = {"zh-CN": ZH_CN, "en": EN}


def invitation_qr(link: str) -> str:
    """The invitation's QR as inline SVG: always a standard QR code (never a Micro QR, which phone
    cameras do not read), large enough to scan from a printed sheet."""
    out = io.BytesIO()
    segno.make(link, error="m", micro=False).save(out, kind="svg", scale=8, border=4, xmldecl=False)
    return out.getvalue().decode()


async def provide_shops(
    db_session: AsyncSession, staff: Principal, org: OrgService, state: AppState
) -> MerchantService:
    return MerchantService(db_session, staff.tenant_id, org, await provide_ledger(db_session, staff, state))


async def the_staff_member(staff: Principal) -> Principal:
    return staff


def shop_desk(console: Page) -> Router:
    """The shop screens on the console `console` (the page the admin package lends)."""
    page = console.with_words(WORDS)

    async def decide(
        request: AnyRequest, db_session: AsyncSession, shops: MerchantService, merchant_id: uuid.UUID, status: str
    ) -> Redirect:
        form = await request.form()
        back = str(form.get("back") or "")
        # Back to the console page the form was on (the shops or the approvals queue), never elsewhere.
        inside = back.startswith(console.home) and not back.startswith("//") and "\\" not in back
        back = back if inside else SHOPS_PATH
        note = str(form.get("reason") or "").strip()[:1000] or None
        said = {"active": "shop_approved", "refused": "shop_refused", "suspended": "shop_suspended"}[status]

        async def act() -> Message:
            before = (await shops.in_reach(merchant_id)).status
            await shops.decide(merchant_id, status, note)
            return Message.done("shop_reactivated" if before == "suspended" else said)

        return await page.act(request, db_session, back, act)

    class ShopDesk(Controller):
        path = "/shops"

        @get("/", name="console:shops")
        async def listed(
            self,
            request: AnyRequest,
            shops: MerchantService,
            db_session: AsyncSession,
            staff: Principal,
            status: str | None = None,
        ) -> Template:
            chosen = status if status in MERCHANT_STATUSES else None
            pending = await shops.in_reach_listed("pending", SHOWN, None)
            rows = await shops.in_reach_listed(chosen, SHOWN, None)
            unit_ids = {shop.org_unit_id for shop in [*pending, *rows]}
            units = {unit.id: unit.name for unit in await _units(db_session, staff, unit_ids)}
            return page.render(
                request,
                "shops",
                pending=pending,
                rows=rows,
                units=units,
                statuses=MERCHANT_STATUSES,
                status_filter=chosen,
                back=f"{SHOPS_PATH}?status={chosen}" if chosen else SHOPS_PATH,
            )

        @get("/invite", name="console:invite_shop")
        async def invite(
            self,
            request: AnyRequest,
            org: OrgService,
            db_session: AsyncSession,
            staff: Principal,
            unit: uuid.UUID | None = None,
        ) -> Template:
            units = await _reachable_units(db_session, staff, await org.reach())
            if not units:
                raise NotFound("No org unit yet")
            chosen = next((candidate for candidate in units if candidate.id == unit), None) if unit else units[0]
            if chosen is None:
                raise NotFound(f"No such org unit: {unit}")
            link = f"{request.base_url}".rstrip("/") + f"/merchant/apply/{chosen.id}"
            return page.render(request, "invite", unit=chosen, units=units, link=link, qr=invitation_qr(link))

        @post("/{merchant_id:uuid}/approve", name="console:approve_shop")
        async def approve(
            self, request: AnyRequest, merchant_id: uuid.UUID, db_session: AsyncSession, shops: MerchantService
        ) -> Response[Any]:
            return await decide(request, db_session, shops, merchant_id, "active")

        @post("/{merchant_id:uuid}/refuse", name="console:refuse_shop")
        async def refuse(
            self, request: AnyRequest, merchant_id: uuid.UUID, db_session: AsyncSession, shops: MerchantService
        ) -> Response[Any]:
            return await decide(request, db_session, shops, merchant_id, "refused")

        @post("/{merchant_id:uuid}/suspend", name="console:suspend_shop")
        async def suspend(
            self, request: AnyRequest, merchant_id: uuid.UUID, db_session: AsyncSession, shops: MerchantService
        ) -> Response[Any]:
            return await decide(request, db_session, shops, merchant_id, "suspended")

        @post("/{merchant_id:uuid}/reactivate", name="console:reactivate_shop")
        async def reactivate(
            self, request: AnyRequest, merchant_id: uuid.UUID, db_session: AsyncSession, shops: MerchantService
        ) -> Response[Any]:
            return await decide(request, db_session, shops, merchant_id, "active")

    return page.screens(
        [ShopDesk],
        {
            "staff": Provide(page.user),
            "principal": Provide(the_staff_member),
            "org": Provide(provide_org),
            "shops": Provide(provide_shops),
        },
    )


async def _units(db_session: AsyncSession, staff: Principal, unit_ids: set[uuid.UUID]) -> list[OrgUnit]:
    """The units of shops already in the caller's reach, for their names."""
    if not unit_ids:
        return []
    return list(
        await db_session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == staff.tenant_id, OrgUnit.id.in_(unit_ids)))
    )


async def _reachable_units(db_session: AsyncSession, staff: Principal, reach: Subtree) -> list[OrgUnit]:
    """The units a shop may be invited to, top first (a community before its areas and buildings)."""
    return list(
        await db_session.scalars(
            select(OrgUnit)
            .where(OrgUnit.tenant_id == staff.tenant_id, reach.clause(OrgUnit.path))
            .order_by(OrgUnit.path)
            .limit(SHOWN)
        )
    )


def shop_screens(pages: Mapping[str, Page]) -> list[Router]:
    """The shop screens, on the staff console when the application has one."""
    return [shop_desk(pages["console"])] if "console" in pages else []


# -- the approvals queue ----------------------------------------------------------------------------


def _applications(query: PendingQuery) -> Select[Any]:
    return (
        select(Merchant, OrgUnit.id, OrgUnit.name, null(), null())
        .join(OrgUnit, (OrgUnit.tenant_id == Merchant.tenant_id) & (OrgUnit.id == Merchant.org_unit_id))
        .where(Merchant.tenant_id == query.tenant_id, Merchant.status == "pending")
    )


SHOP_APPLICATIONS = PendingSource(
    "shop_application",
    _applications,
    Merchant.created_at,
    "/api/v1/admin/merchants/{id}",
    lambda merchant: f"商户入驻申请: {merchant.name}（{merchant.address}）",
)
