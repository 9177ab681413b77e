"""What reached the database driver itself: asyncpg's query logger on every connection
an engine hands out. It is told of the statements run on asyncpg's own methods
(app/core/driver.py) and of BEGIN and COMMIT, not of SQLAlchemy's prepared statements;
and, a pool event rather than a statement event, it leaves the driver's fast paths on
(a statement listener on the engine would turn them off)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@asynccontextmanager
async def driver_queries(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The SQL of each query logged by asyncpg while the block runs, in order."""
    seen: list[str] = []

    def log(record: Any) -> None:
        seen.append(record.query)

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    def on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection.driver_connection.remove_query_logger(log)

    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", on_checkout)
    event.listen(pool, "checkin", on_checkin)
    try:
        yield seen
        await asyncio.sleep(0)  # asyncpg calls its loggers soon, not at once
    finally:
        event.remove(pool, "checkout", on_checkout)
        event.remove(pool, "checkin", on_checkin)
