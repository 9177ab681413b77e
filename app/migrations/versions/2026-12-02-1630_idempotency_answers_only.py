"""idempotency answers only

Revision ID: 0017_idempotency_answers_only
Revises: 0016_stats_payments_by_day
Create Date: 2026-12-02 16:30:00+00:00

Issue 12 §6: an Idempotency-Key's row is now written once, with its answer, in the
transaction of the change it answers; an attempt in progress is told by an advisory lock,
not by a committed ``processing`` row with a lease. The state, the attempt's token and its
lease go; the answer's columns are always there. A ``processing`` row left at upgrade is
an attempt that can no longer settle: deleted, so that a retry runs the request.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_idempotency_answers_only"
down_revision: str | None = "0016_stats_payments_by_day"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE state <> 'completed'")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("state")
        batch.drop_column("token")
        batch.drop_column("locked_until")
        batch.alter_column("response_status", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("response_headers", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("response_body", existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("response_body", existing_type=sa.LargeBinary(), nullable=True)
        batch.alter_column("response_headers", existing_type=sa.JSON(), nullable=True)
        batch.alter_column("response_status", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("token", sa.String(length=40), nullable=False, server_default="idem_old")
        )
        batch.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default="completed")
        )
