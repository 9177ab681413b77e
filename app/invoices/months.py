"""How far invoicing has got: the seam other features use to keep invoiced months fixed.

"No change may alter a month already invoiced" (DOMAIN.md, opening section), and a new
price-book version must start in a month no invoice was issued for (R-CAT-4).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
