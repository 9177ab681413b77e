"""partners and records

Revision ID: 0013_partners_and_records
Revises: 0012_webhooks
Create Date: 2026-12-02 02:10:00+00:00

Issue 13: SOC status reports (R-PTN-1); who performs a contract's onboarding (Art. 20.3);
the operation log's customer, sequence and hash chain (R-PTN-2, Art. 32.3).

Entries already recorded join the chain here: numbered in (occurred_at, id) order and
hashed with the rule of app/audit/chain.py, frozen below as it stood when the chain began,
so ``scms audit verify`` checks them like every later entry. Their customer is derived as
``record`` derives it now, and for payments, credit notes and charges through the
invoice or contract their snapshot names.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013_partners_and_records"
down_revision: str | None = "0012_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
BATCH = 1000

_audit = sa.table(
    "audit_records",
    sa.column("id", sa.String),
    sa.column("seq", sa.BigInteger),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_key_id", sa.String),
    sa.column("action", sa.String),
    sa.column("resource_type", sa.String),
    sa.column("resource_id", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("request_id", sa.String),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _hash(row: Any, seq: int, customer_id: str | None, prev_hash: str) -> str:
    occurred_at: datetime = row.occurred_at
    if occurred_at.tzinfo is None:  # SQLite keeps UTC without its zone
        occurred_at = occurred_at.replace(tzinfo=UTC)
    text = json.dumps(
        [
            seq,
            row.id,
            occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            row.actor_key_id,
            row.action,
            row.resource_type,
            row.resource_id,
            customer_id,
            row.before,
            row.after,
            row.request_id,
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _customer(row: Any, invoices: dict[str, str], contracts: dict[str, str]) -> str | None:
    if row.resource_type == "customer":
        return str(row.resource_id)
    for values in (row.after, row.before):
        if isinstance(values, dict):
            if isinstance(values.get("customer_id"), str):
                return str(values["customer_id"])
            if values.get("invoice_id") in invoices:
                return invoices[values["invoice_id"]]
            if values.get("contract_id") in contracts:
                return contracts[values["contract_id"]]
    return None


def _back_fill() -> tuple[int, str]:
    conn = op.get_bind()
    invoices = {r[0]: r[1] for r in conn.execute(sa.text("SELECT id, customer_id FROM invoices"))}
    contracts = {r[0]: r[1] for r in conn.execute(sa.text("SELECT id, customer_id FROM contracts"))}
    seq, prev = 0, GENESIS_HASH
    last_key: tuple[Any, str] | None = None
    while True:
        stmt = sa.select(_audit).order_by(_audit.c.occurred_at, _audit.c.id).limit(BATCH)
        if last_key is not None:
            stmt = stmt.where(sa.tuple_(_audit.c.occurred_at, _audit.c.id) > sa.tuple_(*last_key))
        rows = conn.execute(stmt).all()
        if not rows:
            return seq, prev
        updates = []
        for row in rows:
            seq += 1
            customer_id = _customer(row, invoices, contracts)
            digest = _hash(row, seq, customer_id, prev)
            updates.append(
                {
                    "b_id": row.id,
                    "seq": seq,
                    "customer_id": customer_id,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        conn.execute(
            _audit.update()
            .where(_audit.c.id == sa.bindparam("b_id"))
            .values(
                seq=sa.bindparam("seq"),
                customer_id=sa.bindparam("customer_id"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
            ),
            updates,
        )
        last_key = (rows[-1].occurred_at, rows[-1].id)


def upgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("customer_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    last_seq, last_hash = _back_fill()
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_audit_records_seq", ["seq"], unique=True)
        batch_op.create_index("ix_audit_records_customer_id", ["customer_id", "seq"])

    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "last_seq": last_seq,
                "last_hash": last_hash,
                "anchor_seq": 0,
                "anchor_hash": GENESIS_HASH,
            }
        ],
    )

    op.add_column(
        "contracts", sa.Column("onboarding_performed_by", sa.String(length=20), nullable=True)
    )
    if op.get_bind().dialect.name != "sqlite":
        # SQLite adds a CHECK only by rebuilding the table, which the rows referring to
        # contracts forbid; there the schema's Literal is the guard (app/onboarding).
        op.create_check_constraint(
            "performed_by_known", "contracts", "onboarding_performed_by IN ('carrier', 'partner')"
        )
    # The monthly statistics scan these columns only (issue 13 §4).
    op.create_index(
        "ix_contracts_stats",
        "contracts",
        [
            "customer_id",
            "plan",
            "status",
            "service_start_on",
            "termination_effective_on",
            "license_ids",
            "ad_integration",
        ],
    )
    # Onboarding started before this field existed was the carrier's (the default).
    op.execute(
        "UPDATE contracts SET onboarding_performed_by = 'carrier' "
        "WHERE onboarding_started_on IS NOT NULL"
    )

    op.create_table(
        "soc_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("incident_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("supersedes_id", sa.String(length=40), nullable=True),
        sa.Column("reported_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('normal', 'warning', 'incident', 'critical')",
            name=op.f("ck_soc_reports_status_known"),
        ),
        sa.CheckConstraint(
            "incident_count >= 0", name=op.f("ck_soc_reports_incident_count_not_negative")
        ),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_soc_reports_period_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_soc_reports_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["soc_reports.id"],
            name=op.f("fk_soc_reports_supersedes_id_soc_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_soc_reports")),
    )
    with op.batch_alter_table("soc_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_soc_reports_contract_period", ["contract_id", "period_start", "period_end"]
        )
        batch_op.create_index("ix_soc_reports_customer_id", ["customer_id", "created_at", "id"])
        batch_op.create_index("ix_soc_reports_supersedes_id", ["supersedes_id"], unique=True)


def downgrade() -> None:
    op.drop_table("soc_reports")
    op.drop_index("ix_contracts_stats", table_name="contracts")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("performed_by_known", "contracts", type_="check")
    op.drop_column("contracts", "onboarding_performed_by")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_customer_id")
        batch_op.drop_index("ix_audit_records_seq")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("customer_id")
        batch_op.drop_column("seq")
