"""A quote (API.md "Quotes"): the pure domain's ``quote`` with the stored price book."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.price_books import service as price_books
from app.pricing.lines import LineGroup
from app.pricing.quotes import quote
from app.quotes.schemas import (
    QuoteCreate,
    QuoteFirstInvoice,
    QuoteFirstYear,
    QuoteLine,
    QuoteLines,
    QuotePriceBook,
    QuoteRead,
)


def _lines(group: LineGroup) -> QuoteLines:
    return QuoteLines(
        lines=[
            QuoteLine(
                item=line.item,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                taxable=line.taxable,
            )
            for line in group.lines
        ],
        total=group.total,
    )


async def make_quote(
    session: AsyncSession, data: QuoteCreate, today: date, *, books_max_age: float = 0
) -> QuoteRead:
    """Price ``data`` with the version in effect on ``data.on`` (default ``today``).

    One version prices both the monthly items (the month of ``on``, R-CAT-4) and the
    one-time items (``on`` standing for the application's ``received_on``): new versions
    start on a month's first day, so the two are always the same version. The books may
    be as checked ``books_max_age`` seconds ago (SCMS_PRICE_BOOK_CHECK_SECONDS).
    """
    on = data.on or today
    stored = await price_books.book_in_effect(session, on, max_age=books_max_age)
    result = quote(
        stored.book,
        data.plan.value,
        data.license_ids,
        data.options.chosen(),
        data.onboarding_kind.value,
    )
    first = result.first_invoice
    return QuoteRead(
        on=on,
        monthly=_lines(result.monthly),
        one_time=_lines(result.one_time),
        first_invoice=QuoteFirstInvoice(
            taxable_subtotal=first.taxable_subtotal,
            tax=first.tax,
            non_taxable_subtotal=first.non_taxable_subtotal,
            total=first.total,
        ),
        first_year=QuoteFirstYear(
            subtotal=result.first_year.subtotal,
            tax=result.first_year.tax,
            total=result.first_year.total,
        ),
        price_book=QuotePriceBook(id=stored.id, effective_from=stored.book.effective_from),
    )
