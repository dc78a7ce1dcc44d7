"""What goes over the wire about leaderboards."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec

Period = Literal["month", "year", "all"]
MemberRanking = Literal["public", "own_rank", "hidden"]


class Ranked(msgspec.Struct):
    rank: int
    member_id: uuid.UUID
    points: int
    # Masked for members (张三 -> 张*); in full for staff.
    display_name: str


class MyRank(msgspec.Struct):
    rank: int
    points: int


class Leaderboard(msgspec.Struct):
    period: Period
    # "YYYY-MM", "YYYY" or "all".
    at: str
    org_unit_id: uuid.UUID
    # What the tenant lets members see: `public` the board, `own_rank` only `me`, `hidden` nothing.
    member_ranking: MemberRanking
    items: list[Ranked]
    # The member's own rank and points, even beyond `limit`; null for other roles.
    me: MyRank | None
