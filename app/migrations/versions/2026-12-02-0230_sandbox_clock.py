"""sandbox clock

Revision ID: 0015_sandbox_clock
Revises: 0014_issuer_at_issue
Create Date: 2026-12-02 02:30:00+00:00

Issue 15: the sandbox clock's offset, one row shared by every process.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_sandbox_clock"
down_revision: str | None = "0014_issuer_at_issue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_sandbox_clock_single_row")),
        sa.CheckConstraint("offset_days >= 0", name=op.f("ck_sandbox_clock_never_back")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_clock")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_clock")
