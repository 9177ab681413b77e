"""invoice plan

Revision ID: 0018_invoice_plan
Revises: 0017_idempotency_answers_only
Create Date: 2026-12-02 17:00:00+00:00

Issue 14 §3, §4: the contract facts of an invoice's PDF (and of a credit note's, from the
invoice it corrects) name the plan billed, from the invoice's own row. A contract keeps
its plan for life (a plan change terminates it and contracts anew, R-LC-8), so the plan
of an invoice issued before this revision is its contract's plan: filled in from there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_invoice_plan"
down_revision: str | None = "0017_idempotency_answers_only"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("plan", sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE invoices SET plan = (SELECT contracts.plan FROM contracts "
        "WHERE contracts.id = invoices.contract_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_column("plan")
