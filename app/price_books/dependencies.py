"""How far invoicing has got, as the price-book rules need it (R-CAT-4).

A new version may only start in a month no invoice has been issued for yet. The
dependency asks the invoicing feature (``app.invoices.months.latest_invoiced_month``)
with the request's session; tests may override it with
``app.dependency_overrides[invoiced_through]``. The price-book service enforces the rule
for whatever month it is given.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.database import SessionDep
from app.invoices.months import latest_invoiced_month
from app.pricing.calendar import Month


async def invoiced_through(session: SessionDep) -> Month | None:
    """The latest month any monthly invoice has been issued for; ``None`` while there are
    none."""
    return await latest_invoiced_month(session)


InvoicedThroughDep = Annotated[Month | None, Depends(invoiced_through)]
