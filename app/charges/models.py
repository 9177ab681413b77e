from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAtMixin, IdColumn, Timestamp


class Charge(CreatedAtMixin, Base):
    """One ledger entry. ``month`` is the billing month whose invoice carries it."""

    __tablename__ = "charges"
    __table_args__ = (
        # A source (a licence change, a termination, an invoice's late charge) records
        # each of its charges once, however often the request or job is retried.
        UniqueConstraint("contract_id", "source", "position"),
        Index("ix_charges_contract_month", "contract_id", "month"),
        Index("ix_charges_unbilled", "month", "invoice_id"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    item: Mapped[str] = mapped_column(String(40), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    taxable: Mapped[bool] = mapped_column(Boolean, nullable=False)
    month: Mapped[str] = mapped_column(String(7), nullable=False)
    rule: Mapped[str] = mapped_column(String(20), nullable=False)
    source: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(40), nullable=False)
    billed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
