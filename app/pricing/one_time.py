"""One-time items (R-CHG-3): onboarding and AD integration, once per contract.

They bill on the first monthly invoice (通則1), or, for ``ad_integration`` added after the
application, on the next invoice. Priced with the version in effect on the contract's
``received_on`` (R-CAT-4): the caller passes ``PriceBooks.for_date(received_on)``.
"""

from __future__ import annotations

from app.pricing.catalogue import DISPLAY_NAMES, ONBOARDING_ITEMS, ChargeKind, Item
from app.pricing.catalogue import check_onboarding_kind as _check_onboarding_kind
from app.pricing.lines import ChargeLine
from app.pricing.price_book import PriceBook


def _one_time_line(book: PriceBook, item: str) -> ChargeLine:
    price = book.price(item)
    return ChargeLine(
        item=str(item),
        description=DISPLAY_NAMES[item],
        quantity=1,
        unit_price=price,
        amount=price,
        taxable=book.is_taxable(ChargeKind.ONE_TIME),
        rule="R-CHG-3",
    )


def onboarding_line(book: PriceBook, onboarding_kind: str) -> ChargeLine:
    """The onboarding item of the contract's kind (``simple`` or ``standard``)."""
    kind = _check_onboarding_kind(onboarding_kind)
    return _one_time_line(book, ONBOARDING_ITEMS[kind])


def ad_integration_line(book: PriceBook) -> ChargeLine:
    """The ``ad_integration`` item, for the application or an add after it (R-LC-7)."""
    return _one_time_line(book, Item.AD_INTEGRATION)


def one_time_lines(
    book: PriceBook, onboarding_kind: str, ad_integration: bool
) -> tuple[ChargeLine, ...]:
    """The one-time lines of a contract's first invoice (R-CHG-3)."""
    lines = [onboarding_line(book, onboarding_kind)]
    if ad_integration:
        lines.append(ad_integration_line(book))
    return tuple(lines)
