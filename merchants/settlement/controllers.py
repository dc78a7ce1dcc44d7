"""Monthly settlement over HTTP: a merchant's own statement and every merchant's totals, as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Response, get
from litestar.params import Parameter

from merchants.accounts.service import MerchantService
from merchants.redemptions.codes import display
from merchants.settlement.schemas import MerchantRef, MerchantTotalView, Settlement, Statement, StatementLineView
from merchants.settlement.service import SettlementService, parse_month
from points_service.auth.principal import Principal
from points_service.exports import CSV, csv_text, download_headers, json_or_files
from points_service.ledger.service import LedgerService

Month = Annotated[str | None, Parameter(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, tenant-local")]
Format = Annotated[Literal["json", "csv"], Parameter(description="json or csv")]


def month_sheet(name: str, period: date, header: list[str], rows: list[list[object]]) -> Response[bytes]:
    """One month's figures as a spreadsheet download, `<name>-YYYY-MM.csv`."""
    body = csv_text(header, rows).encode()
    return Response(body, media_type=CSV, headers=download_headers(f"{name}-{period:%Y-%m}.csv"))


class StatementController(Controller):
    tags = ["merchant"]

    @get(
        "/statement",
        summary="This merchant's fulfilled redemptions in one month",
        operation_class=json_or_files(CSV),
    )
    async def statement(
        self,
        principal: Principal,
        ledger: LedgerService,
        settlement: SettlementService,
        month: Month = None,
        format: Format = "json",
    ) -> Response[Statement | bytes]:
        assert principal.merchant_id is not None
        period = parse_month(month, ledger.clock)
        lines = await settlement.statement(principal.merchant_id, period)
        if format == "csv":
            rows = [
                [
                    line.settled_at.astimezone(ledger.clock.zone).strftime("%Y-%m-%d %H:%M"),
                    display(line.code),
                    line.reward_title,
                    line.quantity,
                    line.points,
                ]
                for line in lines
            ]
            return month_sheet("statement", period, ["核销时间", "兑换码", "商品", "数量", "积分"], rows)
        return Response(
            Statement(
                month=f"{period:%Y-%m}",
                count=len(lines),
                points=sum(line.points for line in lines),
                items=[
                    StatementLineView(
                        id=line.redemption_id,
                        settled_at=line.settled_at,
                        code=display(line.code),
                        reward_title=line.reward_title,
                        quantity=line.quantity,
                        points=line.points,
                    )
                    for line in lines
                ],
            )
        )


class SettlementAdminController(Controller):
    path = "/settlements"
    tags = ["admin: merchants"]

    @get(
        "/",
        summary="Every merchant's fulfilled count and points in one month (staff: their subtree)",
        operation_class=json_or_files(CSV),
    )
    async def totals(
        self,
        ledger: LedgerService,
        settlement: SettlementService,
        merchant_accounts: MerchantService,
        month: Month = None,
        format: Format = "json",
    ) -> Response[Settlement | bytes]:
        period = parse_month(month, ledger.clock)
        totals = await settlement.totals(period, await merchant_accounts.ids_in_reach())
        if format == "csv":
            rows = [[t.merchant_name, t.merchant_id, t.count, t.points] for t in totals]
            return month_sheet("settlement", period, ["商户", "商户编号", "核销笔数", "积分"], rows)
        return Response(
            Settlement(
                month=f"{period:%Y-%m}",
                items=[
                    MerchantTotalView(MerchantRef(t.merchant_id, t.merchant_name), count=t.count, points=t.points)
                    for t in totals
                ],
            )
        )
