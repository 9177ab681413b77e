"""contract changes and charge ledger

Revision ID: 0004_contract_changes
Revises: 0003_contracts
Create Date: 2026-11-24 01:30:53.079942+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_contract_changes"
down_revision: str | None = "0003_contracts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "charges",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("taxable", sa.Boolean(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_charges_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint(
            "contract_id", "source", "position", name=op.f("uq_charges_contract_id_source_position")
        ),
    )
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.create_index("ix_charges_contract_month", ["contract_id", "month"], unique=False)
        batch_op.create_index("ix_charges_unbilled", ["month", "invoice_id"], unique=False)

    op.create_table(
        "contract_options",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("option", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("removal_notice_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "option IN ('soc', 'reserved_ip')", name=op.f("ck_contract_options_option_monthly")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_options_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_options")),
    )
    with op.batch_alter_table("contract_options", schema=None) as batch_op:
        batch_op.create_index("ix_contract_options_contract_id", ["contract_id"], unique=False)

    op.create_table(
        "licence_changes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("license_ids", sa.Integer(), nullable=False),
        sa.Column("previous_license_ids", sa.Integer(), nullable=False),
        sa.Column("notice_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "license_ids BETWEEN 1 AND 1000000", name=op.f("ck_licence_changes_license_ids_range")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_licence_changes_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_changes")),
        sa.UniqueConstraint(
            "contract_id", "effective_on", name=op.f("uq_licence_changes_contract_id_effective_on")
        ),
    )
    op.create_table(
        "suspensions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('breach', 'third_party_harm', 'maintenance', 'contractor_request', "
            "'other')",
            name=op.f("ck_suspensions_reason_known"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_suspensions_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.create_index("ix_suspensions_contract_id", ["contract_id"], unique=False)

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("termination_reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("termination_effective_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("termination_notice_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("termination_breach_item", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("termination_recorded_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cancellation_at_fault", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("renewals_recorded", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("renewals_recorded")
        batch_op.drop_column("cancellation_at_fault")
        batch_op.drop_column("cancelled_on")
        batch_op.drop_column("termination_recorded_on")
        batch_op.drop_column("termination_breach_item")
        batch_op.drop_column("termination_notice_on")
        batch_op.drop_column("termination_effective_on")
        batch_op.drop_column("termination_reason")

    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.drop_index("ix_suspensions_contract_id")

    op.drop_table("suspensions")
    op.drop_table("licence_changes")
    with op.batch_alter_table("contract_options", schema=None) as batch_op:
        batch_op.drop_index("ix_contract_options_contract_id")

    op.drop_table("contract_options")
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_unbilled")
        batch_op.drop_index("ix_charges_contract_month")

    op.drop_table("charges")
