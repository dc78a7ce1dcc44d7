from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base

# What members see of the leaderboards. Some communities turn public ranking off after complaints:
# `own_rank` shows a member only their own rank, `hidden` shows them no ranks at all. Staff always see.
MEMBER_RANKING = ("public", "own_rank", "hidden")


class Tenant(Base):
    """One deployment's top unit (a district or a street)."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint(f"member_ranking IN {MEMBER_RANKING!r}", name="member_ranking"),)

    # The tenant table is the one table keyed by its own id: it is the distribution key itself.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Shanghai")
    member_ranking: Mapped[str] = mapped_column(String(10), nullable=False, server_default="public")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
