"""Refusals of the marketplace (the error codes clients are written against)."""

from points_service.errors import DomainError


class OutOfStock(DomainError):
    code = "out_of_stock"
    title = "Out of stock"


class LimitReached(DomainError):
    code = "limit_reached"
    title = "Per-member limit reached"


class RewardUnavailable(DomainError):
    code = "reward_unavailable"
    title = "Reward not available"


class NotPending(DomainError):
    code = "not_pending"
    title = "Redemption is not pending"


class MerchantSuspended(DomainError):
    code = "merchant_suspended"
    title = "Merchant is suspended"


class ShopWrongStatus(DomainError):
    status_code = 409
    code = "shop_wrong_status"
    title = "Not possible in the shop's current state"
