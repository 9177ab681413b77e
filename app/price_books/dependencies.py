"""How far invoicing has got, as the price-book rules need it (R-CAT-4).

A new version may only start in a month no invoice has been issued for yet. Invoices
arrive with a later feature, so this dependency is the seam: until then no month has
been invoiced and it answers ``None``. The invoicing feature implements it (replace the
body with a call to its service, e.g. ``invoices.service.latest_invoiced_month``), or
overrides it with ``app.dependency_overrides[invoiced_through]``; the price-book service
already enforces the rule for whatever month it is given.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.pricing.calendar import Month


def invoiced_through() -> Month | None:
    """The latest month any invoice has been issued for; ``None`` while there are none."""
    return None


InvoicedThroughDep = Annotated[Month | None, Depends(invoiced_through)]
