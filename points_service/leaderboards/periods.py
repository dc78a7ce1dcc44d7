"""Which boards an earned change lands on, and what a board's period covers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from points_service.errors import InvalidInput

PERIODS = ("month", "year", "all")


@dataclass(frozen=True)
class Board:
    period: str
    at: str  # "YYYY-MM", "YYYY" or "all"

    def months(self) -> tuple[date, date] | None:
        """First and last month (first days) the board sums; None for all time."""
        if self.period == "month":
            year, month = (int(part) for part in self.at.split("-"))
            return date(year, month, 1), date(year, month, 1)
        if self.period == "year":
            return date(int(self.at), 1, 1), date(int(self.at), 12, 1)
        return None


def boards_of(month: date) -> list[Board]:
    return [Board("month", f"{month:%Y-%m}"), Board("year", f"{month:%Y}"), Board("all", "all")]


def parse_board(period: str, at: str | None, today: date) -> Board:
    if period not in PERIODS:
        raise InvalidInput("period", "must be month, year or all")
    if period == "all":
        return Board("all", "all")
    if at is None:
        return Board(period, f"{today:%Y-%m}" if period == "month" else f"{today:%Y}")
    try:
        if period == "month":
            year, month = at.split("-")
            return Board("month", f"{date(int(year), int(month), 1):%Y-%m}")
        return Board("year", f"{date(int(at), 1, 1):%Y}")
    except ValueError as error:
        raise InvalidInput("at", "must be YYYY-MM for a month, YYYY for a year") from error


def board_key(tenant_id: uuid.UUID, board: Board, unit_id: uuid.UUID | str) -> str:
    # The tenant in braces is a Redis Cluster hash tag: one tenant's boards live on one shard.
    return f"lb:{{{tenant_id}}}:{board.period}:{board.at}:{unit_id}"


def ready_key(tenant_id: uuid.UUID) -> str:
    return f"lb:{{{tenant_id}}}:ready"


def applied_key(tenant_id: uuid.UUID) -> str:
    """How many changes were published onto the boards since they were built (leaderboards/stamps.py)."""
    return f"lb:{{{tenant_id}}}:applied"


def rebuild_lock_key(tenant_id: uuid.UUID) -> str:
    return f"lb:{{{tenant_id}}}:rebuilding"


def ancestors(path: str) -> list[str]:
    """Org unit ids on a materialised path "/<hex>/<hex>/", root first, as canonical uuid strings."""
    return [str(uuid.UUID(part)) for part in path.strip("/").split("/") if part]
