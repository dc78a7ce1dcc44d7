"""The tenant's settings as they go over the wire."""

from __future__ import annotations

from typing import Literal

import msgspec

# public: members see their unit's board (names masked) and their own rank; own_rank: only their
# own rank; hidden: no ranks at all.
MemberRanking = Literal["public", "own_rank", "hidden"]


class SettingsPatch(msgspec.Struct):
    member_ranking: MemberRanking


class TenantSettings(msgspec.Struct):
    member_ranking: MemberRanking
