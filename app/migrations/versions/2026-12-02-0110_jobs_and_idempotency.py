"""jobs and idempotency keys

Revision ID: 0011_jobs_and_idempotency
Revises: 0010_events
Create Date: 2026-12-02 01:10:00+00:00

Issue 12 §1: Idempotency-Key answers, stored per API key. Issue 12 §5: the job queue
the workers share (claimed under a lease), and bill runs that wait ``queued`` for one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_jobs_and_idempotency"
down_revision: str | None = "0010_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "status IN ('queued', 'running', 'finished', 'failed')"
_OLD_STATUSES = "status IN ('running', 'finished', 'failed')"


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_jobs_kind_key")),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after"])
    op.create_table(
        "idempotency_keys",
        sa.Column("api_key_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("api_key_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    with op.batch_alter_table("billing_runs") as batch:
        batch.drop_constraint(op.f("ck_billing_runs_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_billing_runs_status_known"), sa.text(_STATUSES))


def downgrade() -> None:
    op.execute("UPDATE billing_runs SET status = 'failed' WHERE status = 'queued'")
    with op.batch_alter_table("billing_runs") as batch:
        batch.drop_constraint(op.f("ck_billing_runs_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_billing_runs_status_known"), sa.text(_OLD_STATUSES))
    op.drop_table("idempotency_keys")
    op.drop_table("jobs")
