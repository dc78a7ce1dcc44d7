from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from merchants.accounts.models import Merchant as MerchantRow
from merchants.rewards.models import Reward as RewardRow

MAX_INT = 1_000_000_000
Text100 = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Price = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT)]
Stock = Annotated[int, msgspec.Meta(ge=0, le=MAX_INT)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT)]
Hours = Annotated[int, msgspec.Meta(ge=1, le=8760)]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
LimitPeriod = Literal["month", "quarter", "year"]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class MerchantCreate(msgspec.Struct):
    name: Text100
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    org_unit_id: uuid.UUID
    username: Username
    password: Password


class MerchantApplication(msgspec.Struct):
    """A shop applying on its own: the org unit comes from the link its community gave it."""

    name: Text100
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    org_unit_id: uuid.UUID
    username: Username
    password: Password


class ClerkCreate(msgspec.Struct):
    username: Username
    password: Password


class MerchantUpdate(msgspec.Struct):
    status: Literal["active", "suspended"] | None = None
    name: Text100 | None = None
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | None = None
    honours: (
        Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=50)]], msgspec.Meta(max_length=10)] | None
    ) = None


class RewardCreate(msgspec.Struct):
    title: Text100
    points_price: Price
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    stock: Stock | None = None
    per_member_limit: Limit | None = None
    limit_period: LimitPeriod | None = None
    valid_until: AwareTime | None = None
    redemption_window_hours: Hours = 72


class RewardPatch(msgspec.Struct):
    """Only the fields sent change; `"stock": null` makes the stock unlimited."""

    title: Text100 | msgspec.UnsetType = msgspec.UNSET
    points_price: Price | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET
    stock: Stock | msgspec.UnsetType | None = msgspec.UNSET
    per_member_limit: Limit | msgspec.UnsetType | None = msgspec.UNSET
    limit_period: LimitPeriod | msgspec.UnsetType | None = msgspec.UNSET
    valid_until: AwareTime | msgspec.UnsetType | None = msgspec.UNSET
    redemption_window_hours: Hours | msgspec.UnsetType = msgspec.UNSET
    status: Literal["active", "inactive"] | msgspec.UnsetType = msgspec.UNSET


def sent_fields(data: msgspec.Struct) -> dict[str, Any]:
    return {name: value for name, value in msgspec.structs.asdict(data).items() if value is not msgspec.UNSET}


class RedemptionCreate(msgspec.Struct):
    reward_id: uuid.UUID
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1


class CodeRequest(msgspec.Struct):
    code: Code


MerchantStatus = Literal["pending", "active", "suspended", "refused"]


class MerchantView(msgspec.Struct):
    id: uuid.UUID
    name: str
    address: str
    status: MerchantStatus
    org_unit_id: uuid.UUID
    honours: list[str]


class ListedMerchant(MerchantView):
    created_at: datetime


class MerchantPage(msgspec.Struct):
    items: list[ListedMerchant]
    next_cursor: str | None


class ClerkView(msgspec.Struct):
    id: uuid.UUID
    username: str
    active: bool = True


class ClerkPatch(msgspec.Struct):
    active: bool


class RewardView(msgspec.Struct):
    id: uuid.UUID
    title: str
    description: str
    points_price: int
    stock: int | None
    per_member_limit: int | None
    limit_period: LimitPeriod | None
    valid_until: datetime | None
    redemption_window_hours: int
    status: Literal["active", "inactive"]
    created_at: datetime


class RewardPage(msgspec.Struct):
    items: list[RewardView]
    next_cursor: str | None


class MerchantCard(msgspec.Struct):
    """The merchant as members see it beside a reward."""

    id: uuid.UUID
    name: str
    address: str
    honours: list[str]


class CatalogueReward(RewardView):
    merchant: MerchantCard


class CataloguePage(msgspec.Struct):
    items: list[CatalogueReward]
    next_cursor: str | None


# The answers read the rows' columns of the same names (litestar-fullstack's `to_schema`).


def merchant_body(merchant: MerchantRow) -> MerchantView:
    return msgspec.convert(merchant, MerchantView, from_attributes=True)


def listed_merchant(merchant: MerchantRow) -> ListedMerchant:
    return msgspec.convert(merchant, ListedMerchant, from_attributes=True)


def reward_body(reward: RewardRow) -> RewardView:
    return msgspec.convert(reward, RewardView, from_attributes=True)


def catalogue_item(row: Any) -> CatalogueReward:
    """One row of merchants.rewards.service.read_catalogue."""
    return CatalogueReward(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        points_price=row["points_price"],
        stock=row["stock"],
        per_member_limit=row["per_member_limit"],
        limit_period=row["limit_period"],
        valid_until=row["valid_until"],
        redemption_window_hours=row["redemption_window_hours"],
        status=row["status"],
        created_at=row["created_at"],
        merchant=MerchantCard(row["merchant_id"], row["merchant_name"], row["address"], list(row["honours"])),
    )


def catalogue_reward(reward: RewardRow, merchant: MerchantRow) -> CatalogueReward:
    card = msgspec.convert(merchant, MerchantCard, from_attributes=True)
    return CatalogueReward(**msgspec.structs.asdict(reward_body(reward)), merchant=card)
