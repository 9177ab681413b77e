"""The rules of a new price book version, at the service (R-CAT-4).

"A new version must start on the first day of a month that no invoice has been issued
for yet, and may not change history." Invoices come with a later feature, so these tests
hand the service the latest invoiced month directly.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.roles import Role
from app.auth.service import Principal
from app.core.clock import FixedClock
from app.core.errors import Conflict, Unprocessable
from app.invoices.months import latest_invoiced_month
from app.price_books import service
from app.price_books.cache import price_books
from app.price_books.models import PriceBookVersion
from app.price_books.repository import PriceBookRepository
from app.price_books.schemas import PriceBookCreate
from app.pricing.calendar import Month
from app.pricing.price_book import INITIAL_PRICE_BOOK
from tests.price_books.factories import price_book_body
from tests.support.databases import BoundDatabase

ADMIN = Principal(key_id="key_admin", role=Role.ADMIN)


def _data(effective_from: str, **prices: int) -> PriceBookCreate:
    return PriceBookCreate.model_validate(price_book_body(effective_from, **prices))


async def _count(session: AsyncSession) -> int:
    return (await session.scalar(select(func.count()).select_from(PriceBookVersion))) or 0


async def test_a_month_already_invoiced_is_refused_and_nothing_is_stored(
    session: AsyncSession, clock: FixedClock
) -> None:
    with pytest.raises(Conflict) as refused:
        await service.create_version(
            session, _data("2026-12-01"), ADMIN, clock, invoiced_through=Month(2026, 12)
        )
    assert refused.value.code == "price_book_month_invoiced"
    assert refused.value.rule == "R-CAT-4"
    assert refused.value.facts["next_allowed_effective_from"] == date(2027, 1, 1)
    assert await _count(session) == 1


async def test_an_earlier_month_than_the_last_invoiced_is_refused_too(
    session: AsyncSession, clock: FixedClock
) -> None:
    """History may not change: not even a month long before the last invoice."""
    with pytest.raises(Conflict):
        await service.create_version(session, _data("2026-06-01"), ADMIN, clock, Month(2026, 12))


async def test_the_month_after_the_last_invoiced_is_allowed(
    session: AsyncSession, clock: FixedClock
) -> None:
    version = await service.create_version(
        session, _data("2027-01-01"), ADMIN, clock, invoiced_through=Month(2026, 12)
    )
    assert version.effective_from == date(2027, 1, 1)
    assert version.created_by == "key_admin"
    assert await _count(session) == 2


async def test_a_mid_month_date_names_the_first_open_month_as_next_allowed(
    session: AsyncSession, clock: FixedClock
) -> None:
    with pytest.raises(Unprocessable) as refused:
        await service.create_version(session, _data("2026-11-15"), ADMIN, clock, Month(2026, 12))
    assert refused.value.code == "price_book_not_month_start"
    assert refused.value.facts["next_allowed_effective_from"] == date(2027, 1, 1)


async def test_the_last_month_of_the_calendar_has_no_next_allowed_day(
    session: AsyncSession, clock: FixedClock
) -> None:
    # The API refuses 9999-12-31 (issue 9 §4, outside the business window); the
    # service still answers for it, so the request is built past validation.
    last = _data("2026-12-01").model_copy(update={"effective_from": date(9999, 12, 31)})
    with pytest.raises(Unprocessable) as refused:
        await service.create_version(session, last, ADMIN, clock, None)
    assert refused.value.facts["next_allowed_effective_from"] is None


async def test_without_invoices_any_first_of_month_is_allowed(
    session: AsyncSession, clock: FixedClock
) -> None:
    """Before any invoice the router passes None: no month is closed yet."""
    assert await latest_invoiced_month(session) is None
    version = await service.create_version(session, _data("2026-05-01"), ADMIN, clock, None)
    assert version.effective_from == date(2026, 5, 1)


async def test_a_new_version_prices_the_months_from_its_own_on(
    session: AsyncSession, clock: FixedClock
) -> None:
    """R-CAT-4: a month is priced with the version in effect on its first day."""
    await service.create_version(session, _data("2027-01-01", basic=60_000), ADMIN, clock, None)
    books = await service.load_price_books(session)
    assert len(books) == 2
    assert books.for_month(Month(2026, 12)) == INITIAL_PRICE_BOOK
    assert books.for_month(Month(2027, 1)).price("basic") == 60_000
    assert books.for_month(Month(2031, 6)).price("basic") == 60_000
    # Before the first version, the earliest one applies.
    assert books.for_month(Month(2026, 1)) == INITIAL_PRICE_BOOK


async def test_the_version_in_effect_comes_with_its_id(
    session: AsyncSession, clock: FixedClock
) -> None:
    created = await service.create_version(session, _data("2027-01-01"), ADMIN, clock, None)
    assert (await service.book_in_effect(session, date(2026, 12, 31))).id == "pbk_2026_04_24"
    assert (await service.book_in_effect(session, date(2027, 1, 1))).id == created.id


async def test_two_requests_racing_for_one_month_give_409_not_500(
    session: AsyncSession, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique effective_from decides a race the existence check cannot see."""
    first = await service.create_version(session, _data("2027-01-01"), ADMIN, clock, None)
    real = PriceBookRepository.by_effective_from
    calls = 0

    async def blind_first_time(self: PriceBookRepository, day: date) -> PriceBookVersion | None:
        nonlocal calls
        calls += 1
        return None if calls == 1 else await real(self, day)

    monkeypatch.setattr(PriceBookRepository, "by_effective_from", blind_first_time)
    with pytest.raises(Conflict) as refused:
        await service.create_version(session, _data("2027-01-01"), ADMIN, clock, None)
    assert refused.value.code == "price_book_exists"
    assert refused.value.facts["existing_id"] == first.id
    # The session is still usable after the failed insert.
    assert await _count(session) == 2


async def test_issue_11_a_rolled_back_version_never_prices_a_quote(
    database: BoundDatabase, clock: FixedClock
) -> None:
    """Quotes trust the books checked within SCMS_PRICE_BOOK_CHECK_SECONDS; a writer that
    read its own uncommitted version and then rolled back must not have left that copy
    for them (R-CAT-4: only a stored version prices anything)."""
    price_books.clear()
    try:
        async with database.sessionmaker() as writer:
            await service.create_version(
                writer, _data("2027-01-01", basic=60_000), ADMIN, clock, None
            )
            assert len(await service.load_price_books(writer)) == 2
            await writer.rollback()
        async with database.read_sessionmaker() as reader:
            stored = await service.book_in_effect(reader, date(2027, 1, 1), max_age=60)
            assert stored.id == "pbk_2026_04_24"
            assert stored.book.price("basic") == INITIAL_PRICE_BOOK.price("basic")
            # ...and within the bound the quote's own check is what is trusted.
            assert len((await price_books.committed_within(reader, 60)).books) == 1
    finally:
        price_books.clear()
