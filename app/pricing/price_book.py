"""Versioned price book (R-CAT-4): prices, tax rate, late-payment rate, taxable kinds.

Tariff 通則6 lets the carrier change prices, so none live in code paths: a version has an
``effective_from`` date; a calendar month is priced with the version in effect on its first
day, one-time items with the version in effect on the contract's ``received_on``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from app.pricing.calendar import Month
from app.pricing.catalogue import CATALOGUE_CODES, CHARGE_KINDS, ChargeKind, Item
from app.pricing.errors import InvalidPriceBook, NoPriceBook, UnknownItem

# R-CHG-4: everything is taxable except the early-termination charge (Art. 24, 通則5) and
# late-payment charges (Art. 26, interest in substance). Data, so that a tax adviser's
# ruling (e.g. on cancellation fees) changes a price book, not the code.
DEFAULT_TAXABLE_KINDS: frozenset[str] = CHARGE_KINDS - {
    ChargeKind.EARLY_TERMINATION,
    ChargeKind.LATE_PAYMENT,
}

_MAX_RATE = Decimal(100)


def _as_rate(name: str, value: object) -> Decimal:
    # Floats are refused: 14.5 as a float is not 14.5, and money never touches floats.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidPriceBook(f"{name} must be a Decimal, not {value!r}.", facts={name: value})
    rate = Decimal(value)
    if not rate.is_finite() or not Decimal(0) <= rate <= _MAX_RATE:
        raise InvalidPriceBook(
            f"{name} must be between 0 and 100 percent, not {value}.", facts={name: str(value)}
        )
    return rate


@dataclass(frozen=True, slots=True)
class PriceBook:
    """One version of the price book (R-CAT-4). Prices are integer yen before tax."""

    effective_from: date
    prices: Mapping[str, int]
    tax_rate_percent: Decimal
    late_payment_rate_percent: Decimal
    taxable_kinds: frozenset[str] = DEFAULT_TAXABLE_KINDS
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        prices = {str(code): price for code, price in self.prices.items()}
        missing = CATALOGUE_CODES - prices.keys()
        unknown = prices.keys() - CATALOGUE_CODES
        if missing or unknown:
            raise InvalidPriceBook(
                "A price book prices exactly the catalogue items.",
                facts={"missing": sorted(missing), "unknown": sorted(unknown)},
            )
        bad = {
            code: price
            for code, price in prices.items()
            if isinstance(price, bool) or not isinstance(price, int) or price < 0
        }
        if bad:
            raise InvalidPriceBook(
                "Prices are whole, non-negative yen.", facts={"prices": dict(sorted(bad.items()))}
            )
        kinds = frozenset(str(k) for k in self.taxable_kinds)
        if kinds - CHARGE_KINDS:
            raise InvalidPriceBook(
                "Unknown charge kinds among the taxable kinds.",
                facts={"unknown": sorted(kinds - CHARGE_KINDS), "allowed": sorted(CHARGE_KINDS)},
            )
        tax = _as_rate("tax_rate_percent", self.tax_rate_percent)
        late = _as_rate("late_payment_rate_percent", self.late_payment_rate_percent)
        frozen_prices = MappingProxyType(dict(sorted(prices.items())))
        object.__setattr__(self, "prices", frozen_prices)
        object.__setattr__(self, "tax_rate_percent", tax)
        object.__setattr__(self, "late_payment_rate_percent", late)
        object.__setattr__(self, "taxable_kinds", kinds)
        # Hashed once: the monthly-line cache is keyed by the book (recurring.py).
        key = (self.effective_from, tuple(frozen_prices.items()), tax, late, kinds)
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash

    def price(self, code: str) -> int:
        """The unit price of an item, in yen before tax."""
        try:
            return self.prices[code]
        except KeyError:
            raise UnknownItem(
                f"The price book effective from {self.effective_from} has no item {code!r}.",
                facts={"item": code, "effective_from": self.effective_from},
            ) from None

    def is_taxable(self, kind: str) -> bool:
        """R-CHG-4: whether charges of this kind bear consumption tax."""
        return kind in self.taxable_kinds


INITIAL_PRICE_BOOK = PriceBook(
    effective_from=date(2026, 4, 24),
    prices={
        Item.BASIC: 50_000,
        Item.FOUNDATION_ESSENTIAL: 8_600,
        Item.FOUNDATION_ADVANTAGE: 11_000,
        Item.COMPLETE_ESSENTIAL: 13_600,
        Item.COMPLETE_ADVANTAGE: 21_600,
        Item.SOC_BASE: 100_000,
        Item.SOC_USERS: 1_000,
        Item.RESERVED_IP: 80_000,
        Item.ONBOARDING_SIMPLE: 550_000,
        Item.ONBOARDING_STANDARD: 1_000_000,
        Item.AD_INTEGRATION: 350_000,
    },
    tax_rate_percent=Decimal("10"),
    late_payment_rate_percent=Decimal("14.5"),
)


class PriceBooks:
    """Every version of the price book, sorted by ``effective_from`` (R-CAT-4). Immutable."""

    __slots__ = ("_versions", "_starts")

    def __init__(self, versions: Iterable[PriceBook]) -> None:
        ordered = tuple(sorted(versions, key=lambda book: book.effective_from))
        if not ordered:
            raise NoPriceBook("There is no price book version.")
        starts = tuple(book.effective_from for book in ordered)
        if len(set(starts)) != len(starts):
            raise InvalidPriceBook(
                "Two price book versions take effect on the same day.",
                facts={"effective_from": [str(s) for s in starts]},
            )
        self._versions = ordered
        self._starts = starts

    @property
    def versions(self) -> tuple[PriceBook, ...]:
        return self._versions

    def __iter__(self) -> Iterator[PriceBook]:
        return iter(self._versions)

    def __len__(self) -> int:
        return len(self._versions)

    def __repr__(self) -> str:
        return f"PriceBooks({[str(s) for s in self._starts]})"

    def for_date(self, d: date) -> PriceBook:
        """The version in effect on ``d``; the earliest version where none is yet."""
        index = bisect.bisect_right(self._starts, d) - 1
        return self._versions[max(index, 0)]

    def for_month(self, month: Month) -> PriceBook:
        """The version pricing ``month``: in effect on its first day (R-CAT-4).

        A version effective mid-month therefore prices from the next month on.
        """
        return self.for_date(month.first_day)
