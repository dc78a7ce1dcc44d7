"""Reserved for posts and shifts; left empty when it landed, so their tables arrive in 0009.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00

"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
