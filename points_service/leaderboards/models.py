"""What PostgreSQL remembers of the boards in Redis, so a Redis gone back in time is noticed."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKeyConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base


class LeaderboardGeneration(Base):
    """The newest build of a tenant's boards (PostgreSQL's clock in microseconds when it began). Boards in
    Redis carry the generation they were built as; older ones (a Redis restored from a snapshot taken
    before the last build, or boards ahead of a restored database, whose restore moves this on) are
    rebuilt (leaderboards/upkeep.py)."""

    __tablename__ = "leaderboard_generations"
    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False)
