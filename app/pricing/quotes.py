"""Quotes: what a contract would cost, before anyone applies (R-CHG-1, R-CHG-3, R-CHG-4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.pricing.catalogue import Option, check_options
from app.pricing.lines import InvoiceTotals, LineGroup, totals
from app.pricing.one_time import one_time_lines
from app.pricing.price_book import PriceBook
from app.pricing.recurring import ContractShape, monthly_lines

FIRST_YEAR_MONTHS = 12


@dataclass(frozen=True, slots=True)
class PeriodTotals:
    subtotal: int
    tax: int
    total: int


@dataclass(frozen=True, slots=True)
class Quote:
    monthly: LineGroup
    one_time: LineGroup
    first_invoice: InvoiceTotals
    first_year: PeriodTotals


def quote(
    book: PriceBook,
    plan: str,
    license_ids: int,
    options: Iterable[str],
    onboarding_kind: str,
) -> Quote:
    """Monthly and one-time lines, the first invoice, and the first year.

    The first invoice is the first month plus the one-time items (R-CHG-3). The first year
    is the one-time items plus twelve months; its tax is the sum of the taxes of the
    invoices that would bill it — the first invoice and the eleven monthly invoices after
    it — since tax is computed once per invoice (R-CHG-4), not on the year's subtotal.
    Everything is priced with ``book`` (no price change within the year is assumed).
    """
    chosen = check_options(options)
    shape = ContractShape(plan, license_ids, chosen - {Option.AD_INTEGRATION})
    monthly = LineGroup.of(monthly_lines(book, shape))
    one_time = LineGroup.of(one_time_lines(book, onboarding_kind, Option.AD_INTEGRATION in chosen))
    first_invoice = totals((*monthly.lines, *one_time.lines), book.tax_rate_percent)
    later_months = FIRST_YEAR_MONTHS - 1
    monthly_totals = totals(monthly.lines, book.tax_rate_percent)
    subtotal = one_time.total + FIRST_YEAR_MONTHS * monthly.total
    tax = first_invoice.tax + later_months * monthly_totals.tax
    return Quote(
        monthly=monthly,
        one_time=one_time,
        first_invoice=first_invoice,
        first_year=PeriodTotals(subtotal=subtotal, tax=tax, total=subtotal + tax),
    )
