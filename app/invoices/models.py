from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAtMixin, IdColumn, Timestamp


class IssuerSnapshot(CreatedAtMixin, Base):
    """The issuer's contact and transfer accounts as documents state them (issue 14 §4).

    Its id is the SHA-256 of its canonical JSON, so a run of 100,000 invoices under the
    same settings shares one row; a row is never changed (a new address is a new row).
    """

    __tablename__ = "issuer_snapshots"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class Invoice(CreatedAtMixin, Base):
    """An issued invoice (R-INV-1 … R-INV-4). Never changed after issue except its
    payment state; corrected by credit notes or voided while unpaid."""

    __tablename__ = "invoices"
    __table_args__ = (
        # R-INV-1: one monthly invoice per contract and month, enforced by the database.
        # ``monthly_month`` is the month for a live monthly invoice and NULL otherwise
        # (other kinds, or a voided invoice whose month may be billed again).
        UniqueConstraint("contract_id", "monthly_month"),
        UniqueConstraint("number"),
        CheckConstraint("kind IN ('monthly', 'cancellation', 'other')", name="kind_known"),
        CheckConstraint("status IN ('issued', 'paid', 'void', 'credited')", name="status_known"),
        Index("ix_invoices_customer_id", "customer_id"),
        Index("ix_invoices_month", "month"),
        # Issue 14 §5: the CSV index walks invoices by (issue date, number).
        Index("ix_invoices_issued_on_number", "issued_on", "number"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), nullable=False)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    month: Mapped[str] = mapped_column(String(7), nullable=False)
    monthly_month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    recipient_name: Mapped[str] = mapped_column(String(200), nullable=False)
    issuer_name: Mapped[str] = mapped_column(String(200), nullable=False)
    issuer_registration_number: Mapped[str] = mapped_column(String(14), nullable=False)
    # Issue 14 §4: the issuer's contact and accounts as they were at issue (NULL: issued
    # before migration 0014; its documents took the settings at their first rendering).
    issuer_snapshot_id: Mapped[str | None] = mapped_column(
        ForeignKey("issuer_snapshots.id"), nullable=True
    )
    # Issue 14 §3: the customer's own reference (external_ref), the licence IDs and the
    # plan (its code) the invoice bills, as they were at issue. ``plan`` is NULL only for
    # an invoice whose contract could not be read when migration 0018 filled it in.
    recipient_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    license_ids: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plan: Mapped[str | None] = mapped_column(String(40), nullable=True)
    tax_rate_percent: Mapped[str] = mapped_column(String(16), nullable=False)
    taxable_subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax: Mapped[int] = mapped_column(BigInteger, nullable=False)
    non_taxable_subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount_paid: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    voided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    billing_run_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)


class InvoiceLine(Base):
    """A line of an invoice (R-INV-2): item, quantity, unit price, amount, taxable."""

    __tablename__ = "invoice_lines"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item: Mapped[str] = mapped_column(String(40), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    taxable: Mapped[bool] = mapped_column(Boolean, nullable=False)
    rule: Mapped[str] = mapped_column(String(20), nullable=False)
    charge_id: Mapped[str | None] = mapped_column(IdColumn, nullable=True)


class NumberCounter(Base):
    """The last number given in a series and year (R-INV-3: gapless per issue year).

    Taken with a row lock in the transaction that issues, so a rolled-back issue gives
    its numbers back and concurrent runners never share or skip one.
    """

    __tablename__ = "number_counters"

    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


class Payment(CreatedAtMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_invoice_id", "invoice_id"),
        # Issue 13 §4: the monthly statistics read the payments of a month, these columns.
        Index("ix_payments_paid_on", "paid_on", "invoice_id", "amount"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_by: Mapped[str] = mapped_column(String(40), nullable=False)


class CreditNote(CreatedAtMixin, Base):
    """A credit note (返還インボイス, R-INV-4) correcting an issued invoice."""

    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("number"), Index("ix_credit_notes_invoice_id", "invoice_id"))

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), nullable=False)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    taxable_subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax: Mapped[int] = mapped_column(BigInteger, nullable=False)
    non_taxable_subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[str] = mapped_column(String(40), nullable=False)
    # Issue 14 §4: the issuer's contact and accounts when the credit note was issued.
    issuer_snapshot_id: Mapped[str | None] = mapped_column(
        ForeignKey("issuer_snapshots.id"), nullable=True
    )


class BillingRun(Base):
    """A bill run for one month, with its counters (API.md "Billing")."""

    __tablename__ = "billing_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'finished', 'failed')", name="status_known"
        ),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), nullable=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    invoices_created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    invoices_existing: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(40), nullable=False)
    # Issue 9 §1 (R-INV-1): the date the run's invoices carry, and the month's scheduled
    # issue day (empty only on runs made before they were recorded that issued nothing).
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    scheduled_issue_on: Mapped[date | None] = mapped_column(Date, nullable=True)
