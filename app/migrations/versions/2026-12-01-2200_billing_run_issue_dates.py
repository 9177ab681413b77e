"""billing run issue dates

Revision ID: 0006_billing_run_issue_dates
Revises: 0005_invoices
Create Date: 2026-12-01 22:00:00+00:00

Issue 9 §1 (R-INV-1): a run records the issue date its invoices carry and the month's
scheduled issue day, so the run resource can say which date it used and whether it was
late. Runs made before this revision used the scheduled day: both columns are filled from
their invoices' ``issued_on`` (runs that issued none, dry runs among them, stay empty).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_billing_run_issue_dates"
down_revision: str | None = "0005_invoices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("scheduled_issue_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE billing_runs SET issued_on = (SELECT MIN(invoices.issued_on) FROM invoices "
        "WHERE invoices.billing_run_id = billing_runs.id)"
    )
    op.execute("UPDATE billing_runs SET scheduled_issue_on = issued_on")


def downgrade() -> None:
    with op.batch_alter_table("billing_runs", schema=None) as batch_op:
        batch_op.drop_column("scheduled_issue_on")
        batch_op.drop_column("issued_on")
