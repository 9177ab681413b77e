"""Charge lines and invoice totals (R-CHG-4, R-INV-2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One line of an invoice: what, how many, at what unit price, whether taxed, and why.

    ``item`` is a catalogue code or a charge kind (``early-termination``, ``cancellation``…);
    ``rule`` is the DOMAIN rule id that produced the line. Amounts are integer yen, negative
    for a credit.
    """

    item: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    taxable: bool
    rule: str


@dataclass(frozen=True, slots=True)
class InvoiceTotals:
    """The totals a qualified invoice shows (R-INV-2)."""

    taxable_subtotal: int
    tax: int
    non_taxable_subtotal: int
    total: int


@dataclass(frozen=True, slots=True)
class LineGroup:
    """Lines with their sum (before tax)."""

    lines: tuple[ChargeLine, ...]
    total: int

    @classmethod
    def of(cls, lines: Iterable[ChargeLine]) -> LineGroup:
        kept = tuple(lines)
        return cls(lines=kept, total=sum(line.amount for line in kept))


def tax_on(taxable_subtotal: int, tax_rate_percent: Decimal) -> int:
    """R-CHG-4 (通則3, 通則5): tax once per invoice, ``floor(subtotal × rate / 100)``.

    Exact: the rate is turned into an integer fraction, never a float. A negative subtotal
    (a credit note) is taxed symmetrically, ``-floor(|x| × rate / 100)`` (truncation
    toward zero): the credit then returns exactly the tax the same amount bore when it was
    charged, never one yen more, which flooring toward −∞ would do.
    """
    numerator, denominator = tax_rate_percent.as_integer_ratio()
    magnitude = abs(taxable_subtotal) * numerator // (denominator * 100)
    return magnitude if taxable_subtotal >= 0 else -magnitude


def totals(lines: Iterable[ChargeLine], tax_rate_percent: Decimal) -> InvoiceTotals:
    """Subtotals, tax and total of one invoice (R-CHG-4): tax on the taxable subtotal only."""
    taxable = 0
    non_taxable = 0
    for line in lines:
        if line.taxable:
            taxable += line.amount
        else:
            non_taxable += line.amount
    tax = tax_on(taxable, tax_rate_percent)
    return InvoiceTotals(
        taxable_subtotal=taxable,
        tax=tax,
        non_taxable_subtotal=non_taxable,
        total=taxable + tax + non_taxable,
    )
