"""How far invoicing has got, as the price-book rules need it (R-CAT-4).

A new version may only start in a month no invoice has been issued for yet. Invoicing
stands above price books (it prices with them), so the answer is handed in: the
application sets ``app.state.invoiced_through`` to invoicing's question
(``app.invoices.months.latest_invoiced_month``, see app/main.py), and this dependency
asks it with the request's session; tests may override it with
``app.dependency_overrides[invoiced_through]``. The price-book service enforces the rule
for whatever month it is given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import SessionDep
from app.pricing.calendar import Month

InvoicedThrough = Callable[[AsyncSession], Awaitable[Month | None]]


async def invoiced_through(request: Request, session: SessionDep) -> Month | None:
    """The latest month any monthly invoice has been issued for; ``None`` while there are
    none."""
    ask: InvoicedThrough = request.app.state.invoiced_through
    return await ask(session)


InvoicedThroughDep = Annotated[Month | None, Depends(invoiced_through)]
