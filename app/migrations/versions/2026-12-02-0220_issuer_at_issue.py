"""issuer at issue

Revision ID: 0014_issuer_at_issue
Revises: 0013_partners_and_records
Create Date: 2026-12-02 02:20:00+00:00

Issue 14 §3, §4: the issuer's contact and transfer accounts as each invoice and credit
note states them (a shared, content-addressed snapshot), and the customer's reference and
the licence IDs an invoice bills, all fixed at issue. Documents issued before keep NULL:
they took the settings at their first rendering, and those already rendered are stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_issuer_at_issue"
down_revision: str | None = "0013_partners_and_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issuer_snapshots",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_snapshots")),
    )
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("issuer_snapshot_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("recipient_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("license_ids", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_invoices_issuer_snapshot_id_issuer_snapshots"),
            "issuer_snapshots",
            ["issuer_snapshot_id"],
            ["id"],
        )
    with op.batch_alter_table("credit_notes") as batch_op:
        batch_op.add_column(sa.Column("issuer_snapshot_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_credit_notes_issuer_snapshot_id_issuer_snapshots"),
            "issuer_snapshots",
            ["issuer_snapshot_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("credit_notes") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_credit_notes_issuer_snapshot_id_issuer_snapshots"), type_="foreignkey"
        )
        batch_op.drop_column("issuer_snapshot_id")
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_invoices_issuer_snapshot_id_issuer_snapshots"), type_="foreignkey"
        )
        batch_op.drop_column("license_ids")
        batch_op.drop_column("recipient_reference")
        batch_op.drop_column("issuer_snapshot_id")
    op.drop_table("issuer_snapshots")
