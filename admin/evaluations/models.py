from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

EVALUATION_TARGETS = ("all", "party_members", "in_service", "cadres")
EVALUATION_STATUSES = ("draft", "computed", "published")
GRADES = ("excellent", "qualified", "basically_qualified", "unqualified")
NORMALISATIONS = ("share_of_best", "percentile")


class Evaluation(TenantScoped, Base):
    """A weighted, ranked assessment of a group over a period (考评). Published means frozen."""

    __tablename__ = "evaluations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        CheckConstraint(f"target IN {EVALUATION_TARGETS!r}", name="target"),
        CheckConstraint(f"status IN {EVALUATION_STATUSES!r}", name="status"),
        CheckConstraint("period_start <= period_end", name="period"),
        CheckConstraint("top_n >= 0", name="top_n"),
        CheckConstraint(f"normalisation IN {NORMALISATIONS!r}", name="normalisation"),
        CheckConstraint("max_excellent_share > 0 AND max_excellent_share <= 1", name="max_excellent_share"),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    org_unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    target: Mapped[str] = mapped_column(String(20), nullable=False)
    cadre_position: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # Cadres only: the positions evaluated together (书记 with 书记), null for every position.
    cadre_positions: Mapped[list[str] | None] = mapped_column(JSONB, nullable=True)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    metrics: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    grade_bands: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    top_n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    normalisation: Mapped[str] = mapped_column(String(16), nullable=False, server_default="share_of_best")
    max_excellent_share: Mapped[Decimal | None] = mapped_column(Numeric(4, 3), nullable=True)
    # Written by each run: the weighed metrics left out of the score, and why ([{"metric", "reason"}]).
    excluded_metrics: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)


class EvaluationResult(Base):
    """One member's line in a run: raw and normalised metric values, score, rank, grade."""

    __tablename__ = "evaluation_results"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "evaluation_id"], ["evaluations.tenant_id", "evaluations.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        CheckConstraint(f"grade IN {GRADES!r}", name="grade"),
        Index("ix_evaluation_results_rank", "tenant_id", "evaluation_id", "position"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    evaluation_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False)
    grade: Mapped[str] = mapped_column(String(24), nullable=False)
    top_n: Mapped[bool] = mapped_column(Boolean, nullable=False)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    normalised: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # Where the member stood when the run was made, so a published sheet keeps its unit and position.
    org_unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    cadre_position: Mapped[str | None] = mapped_column(String(50), nullable=True)
