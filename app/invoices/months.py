"""How far invoicing has got: the seam other features use to keep invoiced months fixed.

"No change may alter a month already invoiced" (DOMAIN.md, opening section), and a new
price-book version must start in a month no invoice was issued for (R-CAT-4).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.models import Contract
from app.core.errors import Conflict
from app.invoices.models import Invoice
from app.pricing.calendar import Month


async def last_invoiced_month(session: AsyncSession, contract_id: str) -> Month | None:
    """The latest month a live monthly invoice of this contract was issued for."""
    stmt = select(func.max(Invoice.monthly_month)).where(Invoice.contract_id == contract_id)
    value = await session.scalar(stmt)
    return Month.parse(value) if value else None


async def latest_invoiced_month(session: AsyncSession) -> Month | None:
    """The latest month any monthly invoice (voided ones included) was issued for."""
    value = await session.scalar(select(func.max(Invoice.month)).where(Invoice.kind == "monthly"))
    return Month.parse(value) if value else None


async def ensure_month_open(session: AsyncSession, contract: Contract, day: date) -> None:
    """No change may alter a month already invoiced (DOMAIN.md, opening section)."""
    invoiced = await last_invoiced_month(session, contract.id)
    if invoiced is not None and Month.of(day) <= invoiced:
        raise Conflict(
            f"{Month.of(day)} is already invoiced for this contract; a change must take "
            f"effect in {invoiced + 1} or later.",
            code="month_already_invoiced",
            invoiced_through=str(invoiced),
            earliest_allowed=(invoiced + 1).first_day,
        )
