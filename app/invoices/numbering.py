"""Gapless document numbers per series and issue year (R-INV-3).

Numbers are taken from a counter row inside the transaction that issues the documents:
the row lock makes concurrent issuers queue, and a rollback gives the numbers back, so
the committed numbers of a year are 1, 2, 3, … with no gap and no repeat.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.invoices.models import NumberCounter

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def format_number(series: str, year: int, number: int) -> str:
    return f"{series}-{year}-{number:07d}"


async def allocate(session: AsyncSession, series: str, year: int, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers of ``series`` in ``year`` for this transaction.

    Take them as late as possible before the commit: the counter row stays locked until
    the transaction ends.
    """
    if count <= 0:
        return []
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(NumberCounter)
        .values(series=series, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["series", "year"])
    )
    last = await session.scalar(
        update(NumberCounter)
        .where(NumberCounter.series == series, NumberCounter.year == year)
        .values(last_number=NumberCounter.last_number + count)
        .returning(NumberCounter.last_number)
    )
    assert last is not None
    first = last - count + 1
    return [format_number(series, year, n) for n in range(first, last + 1)]
