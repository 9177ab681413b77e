from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, CreatedAtMixin, IdColumn

# Rates are decimal text ("14.5"), not Numeric: exact on both databases, and SQLite's
# Numeric emits a warning on Decimal values.
RateText = String(16)


class PriceBookVersion(CreatedAtMixin, Base):
    """One version of the price book (R-CAT-4). Rows are inserted, never updated."""

    __tablename__ = "price_books"

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, nullable=False, unique=True)
    prices: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False)
    tax_rate_percent: Mapped[str] = mapped_column(RateText, nullable=False)
    late_payment_rate_percent: Mapped[str] = mapped_column(RateText, nullable=False)
    taxable_kinds: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_by: Mapped[str | None] = mapped_column(IdColumn, nullable=True)
