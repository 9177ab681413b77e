"""stats payments by day

Revision ID: 0016_stats_payments_by_day
Revises: 0015_sandbox_clock
Create Date: 2026-12-02 02:40:00+00:00

Issue 13 §4: the monthly statistics sum the payments dated in the month. Without an index
on the payment date that is a scan of every payment ever received; this one covers the
columns the aggregate reads (the day, the invoice it pays for the customer, the amount).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_stats_payments_by_day"
down_revision: str | None = "0015_sandbox_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_payments_paid_on", "payments", ["paid_on", "invoice_id", "amount"])


def downgrade() -> None:
    op.drop_index("ix_payments_paid_on", table_name="payments")
