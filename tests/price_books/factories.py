"""The price list of DOMAIN.md §1 (the 2026-04-24 version), and bodies built from it."""

from __future__ import annotations

from typing import Any

DOMAIN_PRICES: dict[str, int] = {
    "basic": 50_000,
    "foundation-essential": 8_600,
    "foundation-advantage": 11_000,
    "complete-essential": 13_600,
    "complete-advantage": 21_600,
    "soc-base": 100_000,
    "soc-users": 1_000,
    "reserved-ip": 80_000,
    "onboarding-simple": 550_000,
    "onboarding-standard": 1_000_000,
    "ad-integration": 350_000,
}


def price_book_body(effective_from: str, **prices: int) -> dict[str, Any]:
    """A valid POST /v1/price-books body: DOMAIN prices with ``prices`` changed.

    Keyword names use underscores for the codes' hyphens (``foundation_essential=9_000``).
    """
    items = dict(DOMAIN_PRICES)
    items.update({code.replace("_", "-"): price for code, price in prices.items()})
    return {
        "effective_from": effective_from,
        "items": items,
        "tax_rate_percent": "10",
        "late_payment_rate_percent": "14.5",
    }
