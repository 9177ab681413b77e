"""events

Revision ID: 0010_events
Revises: 0009_invoice_buyer_ids
Create Date: 2026-12-02 01:00:00+00:00

Issue 12 §2: the event outbox, written in the same transaction as each change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_events"
down_revision: str | None = "0009_invoice_buyer_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_type"), "events", ["type"])
    op.create_index(op.f("ix_events_occurred_at"), "events", ["occurred_at"])
    op.create_index(op.f("ix_events_customer_id"), "events", ["customer_id"])


def downgrade() -> None:
    op.drop_table("events")
