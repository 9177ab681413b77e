"""Surcharge for evaded charges (R-CHG-8; Art. 25): X itself plus 2X, both taxable."""

from __future__ import annotations

from app.pricing.catalogue import ChargeKind
from app.pricing.errors import InvalidAmount
from app.pricing.lines import ChargeLine
from app.pricing.price_book import DEFAULT_TAXABLE_KINDS, PriceBook

SURCHARGE_MULTIPLIER = 2


def surcharge_lines(evaded: int, book: PriceBook | None = None) -> tuple[ChargeLine, ChargeLine]:
    """The evaded amount X (before tax) and the surcharge 2X (R-CHG-8).

    Art. 25 adds consumption tax to the 2X (and the evaded charge bore it already), so
    both lines are taxable under the default kinds; ``book`` may rule otherwise.
    """
    if isinstance(evaded, bool) or not isinstance(evaded, int) or evaded <= 0:
        raise InvalidAmount(
            f"The evaded amount is whole, positive yen, not {evaded!r}.",
            rule="R-CHG-8",
            facts={"evaded": evaded},
        )
    kinds = book.taxable_kinds if book is not None else DEFAULT_TAXABLE_KINDS
    taxable = ChargeKind.SURCHARGE in kinds
    item = str(ChargeKind.SURCHARGE)
    return (
        ChargeLine(item, "免れた額", 1, evaded, evaded, taxable, "R-CHG-8"),
        ChargeLine(
            item,
            f"割増金 ({SURCHARGE_MULTIPLIER}倍)",
            SURCHARGE_MULTIPLIER,
            evaded,
            SURCHARGE_MULTIPLIER * evaded,
            taxable,
            "R-CHG-8",
        ),
    )
