"""invoice buyer ids

Revision ID: 0009_invoice_buyer_ids
Revises: 0008_issued_documents
Create Date: 2026-12-01 23:20:00+00:00

Issue 14 §2, §4: the customer's identifiers an invoice was issued under, copied to each of
its invoices just before they change, so an invoice's documents never take a later change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_invoice_buyer_ids"
down_revision: str | None = "0008_issued_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_buyer_ids",
        sa.Column("invoice_id", sa.String(length=40), nullable=False),
        sa.Column("corporate_number", sa.String(length=13), nullable=True),
        sa.Column("registration_number", sa.String(length=14), nullable=True),
        sa.Column("peppol_id", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_buyer_ids_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("invoice_id", name=op.f("pk_invoice_buyer_ids")),
    )


def downgrade() -> None:
    op.drop_table("invoice_buyer_ids")
