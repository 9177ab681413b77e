"""customer identifiers

Revision ID: 0007_customer_identifiers
Revises: 0006_billing_run_issue_dates
Create Date: 2026-12-01 23:00:00+00:00

Issue 14 §2: a customer's 法人番号, qualified-invoice registration number and Peppol
participant id, the buyer's electronic address in JP PINT documents. All optional:
existing customers have none until they are recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_customer_identifiers"
down_revision: str | None = "0006_billing_run_issue_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corporate_number", sa.String(length=13), nullable=True))
        batch_op.add_column(sa.Column("registration_number", sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column("peppol_id", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("peppol_id")
        batch_op.drop_column("registration_number")
        batch_op.drop_column("corporate_number")
