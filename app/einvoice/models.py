"""Issued documents fixed at first rendering (issue 14 §4, 電子帳簿保存法: 真実性)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdColumn, Timestamp


class IssuedDocument(Base):
    """The bytes of an invoice's or credit note's PDF or JP PINT XML, rendered once and
    served unchanged for ever; ``sha256`` is their hash (and the ETag). Never updated or
    deleted: a correction is a credit note or a void, each with its own record."""

    __tablename__ = "issued_documents"
    __table_args__ = (
        CheckConstraint("subject IN ('invoice', 'credit_note')", name="subject_known"),
        CheckConstraint("format IN ('pdf', 'jp-pint')", name="format_known"),
    )

    subject: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    format: Mapped[str] = mapped_column(String(20), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(60), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class InvoiceBuyerIds(Base):
    """The customer's identifiers as they were when the invoice was issued (issue 14 §2, §4).

    Written for every invoice of a customer that has none yet, just before that customer's
    identifiers change (app/customers/service.py): an invoice without a row was issued
    under the customer's current identifiers, one with a row keeps those it was issued
    under. Either way, its documents never take a later change."""

    __tablename__ = "invoice_buyer_ids"

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    corporate_number: Mapped[str | None] = mapped_column(String(13), nullable=True)
    registration_number: Mapped[str | None] = mapped_column(String(14), nullable=True)
    peppol_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
