from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAtMixin, IdColumn, Timestamp


class Customer(CreatedAtMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("external_ref"),)

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    billing_name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    postal_address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    external_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Issue 14 §2: the buyer's identifiers in JP PINT documents.
    corporate_number: Mapped[str | None] = mapped_column(String(13), nullable=True)
    registration_number: Mapped[str | None] = mapped_column(String(14), nullable=True)
    peppol_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # Bumped by every change; the ETag is derived from it (optimistic concurrency).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
