"""The price books, read once per process and again only when a version is added.

Versions are inserted, never updated nor deleted (R-CAT-4), so their ids (unique) name
the whole set: the fingerprint is the ids joined by commas, in whatever order the
database answers (another order only costs a reload, never a wrong answer). There are a
handful of versions; asking for it is one small aggregate, cheap enough for every
request, and it sees a version added by any process (another worker, the CLI) as soon as
it is committed, or the requester's own uncommitted one inside its transaction. A quote
(issue 11: no data but the price book) takes the books checked within the last
``SCMS_PRICE_BOOK_CHECK_SECONDS`` instead, with no query at all. Reads
that select the fingerprint with their own statement (the contract read model) pay no
extra round trip at all.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from app.core.database import Executor
from app.price_books.models import PriceBookVersion
from app.price_books.repository import PriceBookRepository
from app.pricing.price_book import PriceBook, PriceBooks

# Every version's id, joined: see the module's docstring.
Fingerprint = str
_KEPT = 4  # fingerprints remembered (concurrent transactions may see different sets)


@dataclass(frozen=True, slots=True)
class LoadedBooks:
    books: PriceBooks
    ids: dict[date, str]  # effective_from -> version id


def _joined_ids(dialect: str) -> ColumnElement[str]:
    ids = PriceBookVersion.__table__.c.id
    joined = func.string_agg(ids, ",") if dialect == "postgresql" else func.group_concat(ids, ",")
    return func.coalesce(joined, "")


def fingerprint_column(dialect: str) -> ScalarSelect[str]:
    """A scalar subquery a read can add to its own statement to learn the fingerprint."""
    return select(_joined_ids(dialect)).scalar_subquery()


# Built once per dialect: the check runs on every request that prices something.
_FINGERPRINT = {dialect: select(_joined_ids(dialect)) for dialect in ("postgresql", "sqlite")}


class PriceBookCache:
    def __init__(self) -> None:
        self._loaded: dict[Fingerprint, LoadedBooks] = {}
        self._latest: tuple[float, LoadedBooks] | None = None  # (monotonic, books) checked

    async def fingerprint(self, session: AsyncSession) -> Fingerprint:
        joined = await session.scalar(_FINGERPRINT[session.get_bind().dialect.name])
        return str(joined or "")

    async def at(self, session: Executor, fingerprint: Fingerprint) -> LoadedBooks:
        """The books whose fingerprint the caller has just read (loaded when new, on the
        caller's session or read connection)."""
        loaded = self._loaded.get(fingerprint)
        if loaded is None:
            if isinstance(session, AsyncConnection):
                async with AsyncSession(bind=session) as on_connection:
                    loaded = await _load(on_connection)
            else:
                loaded = await _load(session)
            if len(self._loaded) >= _KEPT:
                del self._loaded[next(iter(self._loaded))]
            self._loaded[fingerprint] = loaded
        return loaded

    async def current(self, session: AsyncSession) -> LoadedBooks:
        """The books as ``session`` sees them now (its own uncommitted version too)."""
        return await self.at(session, await self.fingerprint(session))

    async def committed_within(self, session: AsyncSession, max_age: float) -> LoadedBooks:
        """The committed books as checked at most ``max_age`` seconds ago, without a
        query; else checked now (a version added is then seen within ``max_age``, in
        every process). ``session`` is a read-only one: only what it finds is kept for
        other requests, and a writer's own uncommitted version, which :meth:`current`
        sees, must never be (a rollback would leave quotes priced with it)."""
        loaded = self.checked_within(max_age)
        if loaded is None:
            now = time.monotonic()
            loaded = await self.current(session)
            self._latest = (now, loaded)
        return loaded

    def checked_within(self, max_age: float) -> LoadedBooks | None:
        """The committed books if a read-only session checked them at most ``max_age``
        seconds ago (no query); else None."""
        latest = self._latest
        if max_age > 0 and latest is not None and time.monotonic() - latest[0] <= max_age:
            return latest[1]
        return None

    def clear(self) -> None:
        self._loaded.clear()
        self._latest = None


def to_domain(version: PriceBookVersion) -> PriceBook:
    return PriceBook(
        effective_from=version.effective_from,
        prices=version.prices,
        tax_rate_percent=Decimal(version.tax_rate_percent),
        late_payment_rate_percent=Decimal(version.late_payment_rate_percent),
        taxable_kinds=frozenset(version.taxable_kinds),
    )


async def _load(session: AsyncSession) -> LoadedBooks:
    versions: Sequence[PriceBookVersion] = await PriceBookRepository(session).all()
    books: list[PriceBook] = [to_domain(v) for v in versions]
    return LoadedBooks(PriceBooks(books), {v.effective_from: v.id for v in versions})


# One per process.
price_books = PriceBookCache()
