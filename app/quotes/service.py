"""A quote (API.md "Quotes"): the pure domain's ``quote`` with the stored price book."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.renders import Renders
from app.price_books import service as price_books
from app.price_books.service import StoredPriceBook
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


async def quote_json(
    read_sessions: async_sessionmaker[AsyncSession],
    data: QuoteCreate,
    today: date,
    *,
    books_max_age: float = 0,
) -> bytes:
    """``QuoteRead``'s JSON for ``data``: the version in effect on ``data.on`` (default
    ``today``) prices it.

    One version prices both the monthly items (the month of ``on``, R-CAT-4) and the
    one-time items (``on`` standing for the application's ``received_on``): new versions
    start on a month's first day, so the two are always the same version. The books may
    be as checked ``books_max_age`` seconds ago (SCMS_PRICE_BOOK_CHECK_SECONDS). A quote
    is a pure function of the version (which never changes once stored) and the request's
    values, so the last ones are kept by both (issue 11: CRMs ask the same few questions).
    """
    on = data.on or today
    stored = await price_books.book_for_quote(read_sessions, on, max_age=books_max_age)
    options = data.options
    key = (
        *(stored.id, on, data.plan, data.license_ids, data.onboarding_kind),
        *(options.soc, options.reserved_ip, options.ad_integration),
    )
    return _quotes.get(key) or _quotes.put(key, _priced(stored, data, on))


_quotes = Renders(1024)


def _priced(stored: StoredPriceBook, data: QuoteCreate, on: date) -> QuoteRead:
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
