"""Two-way feedback (双向反馈): a resident or staff rates a member's service."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, SmallInteger, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from points_service.database.base import Base, TenantScoped

# What was rated. Shifts and wishes are named now so their areas can add feedback without a migration here.
FEEDBACK_SUBJECTS = ("activity", "shift", "wish")
# Who rated: a resident through the link of one sign-up, a member who took part, or staff.
GIVER_KINDS = ("resident", "member", "staff")


class Feedback(TenantScoped, Base):
    __tablename__ = "feedback"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "given_by"], ["login_accounts.tenant_id", "login_accounts.id"]),
        CheckConstraint(f"subject_kind IN {FEEDBACK_SUBJECTS!r}", name="subject_kind"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint(f"giver_kind IN {GIVER_KINDS!r}", name="giver_kind"),
        Index("ix_feedback_member", "tenant_id", "member_id", "created_at"),
        # One rating per resident link (one sign-up), however often the link is opened.
        Index("uq_feedback_link", "tenant_id", "link_id", unique=True, postgresql_where=text("link_id IS NOT NULL")),
        # A member rates a given member once per activity.
        Index(
            "uq_feedback_member_giver",
            "tenant_id",
            "subject_kind",
            "subject_id",
            "member_id",
            "given_by",
            unique=True,
            postgresql_where=text("giver_kind = 'member'"),
        ),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    subject_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Null: an anonymous resident holding a feedback link.
    given_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    giver_kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="resident")
    # A resident's rating: the sign-up whose link it came through. Ratings made before links were
    # per sign-up have none and stay readable.
    link_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
