"""issued documents

Revision ID: 0008_issued_documents
Revises: 0007_customer_identifiers
Create Date: 2026-12-01 23:10:00+00:00

Issue 14 §4 (電子帳簿保存法: 真実性): the PDF and JP PINT XML of an invoice or credit note,
rendered once, kept with their SHA-256 and served byte-identical for ever; and (§5) an
index on invoices by issue date and number for the CSV index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_issued_documents"
down_revision: str | None = "0007_customer_identifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issued_documents",
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("media_type", sa.String(length=60), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "subject IN ('invoice', 'credit_note')", name=op.f("ck_issued_documents_subject_known")
        ),
        sa.CheckConstraint(
            "format IN ('pdf', 'jp-pint')", name=op.f("ck_issued_documents_format_known")
        ),
        sa.PrimaryKeyConstraint(
            "subject", "subject_id", "format", name=op.f("pk_issued_documents")
        ),
    )
    # §5: the CSV index walks invoices by (issue date, number) in keyset chunks.
    op.create_index("ix_invoices_issued_on_number", "invoices", ["issued_on", "number"])


def downgrade() -> None:
    op.drop_index("ix_invoices_issued_on_number", table_name="invoices")
    op.drop_table("issued_documents")
