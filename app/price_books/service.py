"""Price book versions (R-CAT-4): loading them for pricing, and adding a new one.

A new version starts on the first day of a month that no invoice has been issued for
yet, prices every catalogue item, and never changes afterwards: history is not
rewritten, a later version supersedes an earlier one from its month on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.auth.service import Principal
from app.core.clock import Clock
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.ids import new_id
from app.price_books.cache import LoadedBooks, price_books
from app.price_books.models import PriceBookVersion
from app.price_books.repository import PriceBookRepository
from app.price_books.schemas import PriceBookCreate
from app.pricing.calendar import Month
from app.pricing.price_book import DEFAULT_TAXABLE_KINDS, PriceBook, PriceBooks

RULE = "R-CAT-4"


@dataclass(frozen=True, slots=True)
class StoredPriceBook:
    """A domain price book with the id of the version it was loaded from."""

    id: str
    book: PriceBook


async def load_price_books(session: AsyncSession) -> PriceBooks:
    """Every stored version as the domain's collection (``for_month``, ``for_date``):
    the process's copy, after one cheap check that no version was added (cache.py)."""
    return (await price_books.current(session)).books


async def book_in_effect(session: AsyncSession, on: date, *, max_age: float = 0) -> StoredPriceBook:
    """The version in effect on ``on`` (the earliest where none is yet), with its id;
    ``max_age`` > 0: the committed versions as checked at most that many seconds ago, no
    query, for a read-only ``session`` (cache.py)."""
    loaded = (
        await price_books.committed_within(session, max_age)
        if max_age > 0
        else await price_books.current(session)
    )
    return _in_effect(loaded, on)


async def book_for_quote(
    read_sessions: async_sessionmaker[AsyncSession], on: date, *, max_age: float
) -> StoredPriceBook:
    """:func:`book_in_effect` for a request that asks nothing else of the database (a
    quote): a read-only session is opened only when the copy was checked more than
    ``max_age`` seconds ago (issue 11: making and closing an unused session was a fifth
    of a quote's cost)."""
    loaded = price_books.checked_within(max_age)
    if loaded is None:
        async with read_sessions() as session:
            return await book_in_effect(session, on, max_age=max_age)
    return _in_effect(loaded, on)


def _in_effect(loaded: LoadedBooks, on: date) -> StoredPriceBook:
    book = loaded.books.for_date(on)
    return StoredPriceBook(id=loaded.ids[book.effective_from], book=book)


async def get_version(session: AsyncSession, version_id: str) -> PriceBookVersion:
    version = await PriceBookRepository(session).get(version_id)
    if version is None:
        raise NotFound(f"No price book {version_id}.", code="price_book_not_found")
    return version


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")  # "1E+1" → "10": plain decimal text, exact.


def _first_day_after(d: date) -> date | None:
    """The first day of the month after ``d``'s month (None past the calendar's end)."""
    return None if (d.year, d.month) == (9999, 12) else (Month.of(d) + 1).first_day


def _next_allowed(effective_from: date, invoiced_through: Month | None) -> date | None:
    """The earliest first-of-month a new version could start on, at or after the date."""
    candidate = effective_from if effective_from.day == 1 else _first_day_after(effective_from)
    if invoiced_through is not None:
        first_open = _first_day_after(invoiced_through.first_day)
        if candidate is None or first_open is None:
            return None
        candidate = max(candidate, first_open)
    return candidate


def _check_start(effective_from: date, invoiced_through: Month | None) -> None:
    if effective_from.day != 1:
        raise Unprocessable(
            f"A price book version starts on the first day of a month, not {effective_from}.",
            code="price_book_not_month_start",
            rule=RULE,
            effective_from=effective_from,
            next_allowed_effective_from=_next_allowed(effective_from, invoiced_through),
        )
    if invoiced_through is not None and Month.of(effective_from) <= invoiced_through:
        raise Conflict(
            f"Invoices have been issued up to {invoiced_through}; a new price book version "
            f"may not change a month already invoiced.",
            code="price_book_month_invoiced",
            rule=RULE,
            effective_from=effective_from,
            invoiced_through=str(invoiced_through),
            next_allowed_effective_from=_next_allowed(effective_from, invoiced_through),
        )


def _exists(existing: PriceBookVersion) -> Conflict:
    return Conflict(
        f"Price book {existing.id} already takes effect on {existing.effective_from}; "
        "versions never change, add one for a later month instead.",
        code="price_book_exists",
        rule=RULE,
        existing_id=existing.id,
        effective_from=existing.effective_from,
    )


async def create_version(
    session: AsyncSession,
    data: PriceBookCreate,
    principal: Principal,
    clock: Clock,
    invoiced_through: Month | None,
) -> PriceBookVersion:
    """Add a version (R-CAT-4); ``invoiced_through`` is the latest month invoiced, if any."""
    _check_start(data.effective_from, invoiced_through)
    taxable = DEFAULT_TAXABLE_KINDS if data.taxable_kinds is None else data.taxable_kinds
    # The domain checks the whole list (missing and unknown codes), prices and rates.
    book = PriceBook(
        effective_from=data.effective_from,
        prices=data.items,
        tax_rate_percent=data.tax_rate_percent,
        late_payment_rate_percent=data.late_payment_rate_percent,
        taxable_kinds=frozenset(str(kind) for kind in taxable),
    )
    repo = PriceBookRepository(session)
    existing = await repo.by_effective_from(book.effective_from)
    if existing is not None:
        raise _exists(existing)
    version = PriceBookVersion(
        id=new_id("pbk"),
        effective_from=book.effective_from,
        prices=dict(book.prices),
        tax_rate_percent=_decimal_text(book.tax_rate_percent),
        late_payment_rate_percent=_decimal_text(book.late_payment_rate_percent),
        taxable_kinds=sorted(book.taxable_kinds),
        created_at=clock.now(),
        created_by=principal.key_id,
    )
    try:
        async with session.begin_nested():
            await repo.add(version)
    except IntegrityError:
        # Another request added the same month between our check and our insert.
        existing = await repo.by_effective_from(book.effective_from)
        if existing is None:
            raise
        raise _exists(existing) from None
    await audit.record(
        session,
        clock=clock,
        actor_key_id=principal.key_id,
        action="price_books.create",
        resource_type="price_book",
        resource_id=version.id,
        before=None,
        after=audit.snapshot(version),
        request_id=principal.request_id,
    )
    return version
