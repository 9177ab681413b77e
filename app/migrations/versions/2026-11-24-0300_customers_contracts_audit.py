"""customers contracts audit

Revision ID: 0003_contracts
Revises: 0002_price_books
Create Date: 2026-11-24 01:26:41.838174+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_contracts"
down_revision: str | None = "0002_price_books"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index("ix_audit_records_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index(
            "ix_audit_records_resource", ["resource_type", "resource_id"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("billing_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("postal_address", sa.String(length=500), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_customers_external_ref")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("plan", sa.String(length=40), nullable=False),
        sa.Column("license_ids", sa.Integer(), nullable=False),
        sa.Column("soc", sa.Boolean(), nullable=False),
        sa.Column("reserved_ip", sa.Boolean(), nullable=False),
        sa.Column("ad_integration", sa.Boolean(), nullable=False),
        sa.Column("onboarding_kind", sa.String(length=20), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("arrival_seq", sa.Integer(), nullable=False),
        sa.Column("planned_installation_on", sa.Date(), nullable=False),
        sa.Column("administrators", sa.JSON(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("out_of_order_reason", sa.Text(), nullable=True),
        sa.Column("rejected_on", sa.Date(), nullable=True),
        sa.Column("rejection_reason", sa.String(length=40), nullable=True),
        sa.Column("rejection_notice", sa.Text(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("onboarding_started_on", sa.Date(), nullable=True),
        sa.Column("service_start_on", sa.Date(), nullable=True),
        sa.Column("predecessor_id", sa.String(length=40), nullable=True),
        sa.Column("successor_id", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "onboarding_kind IN ('simple', 'standard')",
            name=op.f("ck_contracts_onboarding_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('applied', 'accepted', 'rejected', 'withdrawn', 'onboarding', "
            "'active', 'terminated', 'cancelled')",
            name=op.f("ck_contracts_status_known"),
        ),
        sa.CheckConstraint(
            "license_ids BETWEEN 1 AND 1000000", name=op.f("ck_contracts_license_ids_range")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contracts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"], ["contracts.id"], name=op.f("fk_contracts_predecessor_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"], ["contracts.id"], name=op.f("fk_contracts_successor_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("arrival_seq", name=op.f("uq_contracts_arrival_seq")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index("ix_contracts_customer_id", ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_contracts_status_received", ["status", "received_on", "arrival_seq"], unique=False
        )

    op.create_table(
        "contract_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_events_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_events")),
    )
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.create_index("ix_contract_events_contract_id", ["contract_id", "id"], unique=False)

    op.create_table(
        "onboarding_inspections",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("certificate_on", sa.Date(), nullable=True),
        sa.Column("defects", sa.JSON(), nullable=True),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "result IN ('accepted', 'nonconforming')",
            name=op.f("ck_onboarding_inspections_result_known"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_onboarding_inspections_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_inspections")),
    )
    with op.batch_alter_table("onboarding_inspections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_onboarding_inspections_contract_id", ["contract_id"], unique=False
        )

    op.create_table(
        "onboarding_milestones",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_onboarding_milestones_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_milestones")),
        sa.UniqueConstraint(
            "contract_id", "key", name=op.f("uq_onboarding_milestones_contract_id_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("onboarding_milestones")
    with op.batch_alter_table("onboarding_inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_onboarding_inspections_contract_id")

    op.drop_table("onboarding_inspections")
    with op.batch_alter_table("contract_events", schema=None) as batch_op:
        batch_op.drop_index("ix_contract_events_contract_id")

    op.drop_table("contract_events")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_contracts_status_received")
        batch_op.drop_index("ix_contracts_customer_id")

    op.drop_table("contracts")
    op.drop_table("customers")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_resource")
        batch_op.drop_index("ix_audit_records_occurred_at")

    op.drop_table("audit_records")
