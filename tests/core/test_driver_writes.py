"""Issue 11: a transaction that is only its commit's one statement (a customer create's)
is run by asyncpg itself (app/core/driver.py, ``run_alone``), with the values SQLAlchemy
would send and the errors SQLAlchemy would raise; a listener on the engine's statements
sends it back through SQLAlchemy. What reached the driver is read off asyncpg's query
logger (tests/support/driver_log.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import QueuePool

from app.audit import log
from app.audit import service as audit
from app.core.clock import FixedClock
from app.core.commit_writes import insert_at_commit
from app.core.database import Database
from app.core.outage import DATABASE_ERROR_TYPES, is_database_unavailable
from app.events.models import Event
from tests.support.databases import own_postgres
from tests.support.driver_log import driver_queries

EVENTS = cast(Table, Event.__table__)
TOKYO_NOON = datetime.fromisoformat("2026-06-15T12:00:00.123456+09:00")


@pytest.fixture(autouse=True)
def _postgres_only(db_kind: str) -> None:
    if db_kind != "postgres":
        pytest.skip("asyncpg's own path; SQLite runs every statement through SQLAlchemy")


def _event(n: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": f"evt_{n:04d}",
        "type": "customer.created",
        "occurred_at": TOKYO_NOON,
        "customer_id": None,
        "resource_type": "customer",
        "resource_id": f"cus_{n}",
        "data": {"名前": "株式会社テスト", "quote": 'a "b" \\ c', "n": n, "none": None},
        "request_id": None,
        "dispatched_at": None,
    }
    return row | changes


async def _write(database: Database, *rows: dict[str, Any]) -> None:
    async with database.sessionmaker() as session:
        for row in rows:
            insert_at_commit(session, EVENTS, row)
        await session.commit()


async def _stored(database: Database) -> dict[str, tuple[Any, ...]]:
    async with database.sessionmaker() as session:
        rows = await session.execute(select(*EVENTS.c).order_by(EVENTS.c.id))
        return {row.id: tuple(row)[1:] for row in rows}


async def test_writes_alone_are_one_query_on_the_driver_with_no_begin_or_commit(
    tmp_path: Path,
) -> None:
    async with own_postgres(tmp_path, pool_size=1) as database:
        async with driver_queries(database.engine) as seen:
            await _write(database, _event(1), _event(2))
        assert len(seen) == 1, seen
        assert seen[0].lstrip().startswith("WITH")
        assert list(await _stored(database)) == ["evt_0001", "evt_0002"]
        # The connection went back to the pool fit for transactions.
        pool = database.engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedin() == 1
        async with database.sessionmaker() as session:
            xid = text("SELECT txid_current()")
            assert await session.scalar(xid) == await session.scalar(xid)


async def test_the_driver_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    """JSON (Japanese, quotes, backslashes, a null), an instant given in Tokyo time and
    a NULL: the same row either way, and the instant reads back as the same moment."""
    async with own_postgres(tmp_path) as database:
        async with driver_queries(database.engine) as seen:
            await _write(database, _event(1))
        assert len(seen) == 1
        listened: list[str] = []

        def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            listened.append(statement)

        engine = database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", listen)
        try:  # a listener is told of every statement: SQLAlchemy runs this one
            await _write(database, _event(2, resource_id="cus_1", data=_event(1)["data"]))
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        assert any(statement.lstrip().startswith("WITH") for statement in listened)
        stored = await _stored(database)
        assert stored["evt_0001"] == stored["evt_0002"]
        assert stored["evt_0001"][1] == TOKYO_NOON
        assert stored["evt_0001"][5] == _event(1)["data"]


async def test_an_operation_log_entry_is_stored_alike_either_way(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A lone entry is linked by the database in the one statement (app/audit/chain.py);
    its ``before`` of None is stored as SQLAlchemy stores it (JSON's null), and the chain
    verifies over entries written both ways."""
    async with own_postgres(tmp_path) as database:

        async def entry() -> None:
            async with database.sessionmaker() as session:
                await audit.record(
                    session,
                    clock=clock,
                    actor_key_id="key_1",
                    action="customers.create",
                    resource_type="customer",
                    resource_id="cus_1",
                    before=None,
                    after={"name": "株式会社テスト", "at": TOKYO_NOON},
                )
                await session.commit()

        async with driver_queries(database.engine) as seen:
            await entry()
        assert len(seen) == 1
        engine = database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", _ignore)
        try:
            await entry()
        finally:
            event.remove(engine, "before_cursor_execute", _ignore)
        async with database.sessionmaker() as session:
            stored = (
                await session.execute(
                    text(
                        "SELECT before IS NULL, before::text, after::text, customer_id"
                        " FROM audit_records ORDER BY seq"
                    )
                )
            ).all()
        assert len(stored) == 2
        assert stored[0] == stored[1]
        assert (await log.verify(database)).ok


def _ignore(*_: Any) -> None:
    """A statement listener: its presence sends the statement through SQLAlchemy."""


async def test_a_violation_on_the_driver_is_sqlalchemys_integrity_error(tmp_path: Path) -> None:
    async with own_postgres(tmp_path) as database:
        await _write(database, _event(1))
        async with driver_queries(database.engine) as seen:
            with pytest.raises(IntegrityError) as raised:
                await _write(database, _event(2), _event(1))  # evt_0001 is taken
        assert len(seen) == 1  # it was the driver's
        assert getattr(raised.value.orig, "sqlstate", None) == "23505"
        assert list(await _stored(database)) == ["evt_0001"]  # none of the statement's rows


async def test_a_connection_the_database_dropped_is_thrown_away_and_the_next_write_works(
    tmp_path: Path,
) -> None:
    async with own_postgres(tmp_path, pool_size=1) as database:
        async with database.sessionmaker() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
        killer = create_async_engine(database.url)
        try:
            async with killer.connect() as connection:
                await connection.execute(text(f"SELECT pg_terminate_backend({pid})"))
        finally:
            await killer.dispose()
        with pytest.raises(DATABASE_ERROR_TYPES) as raised:
            await _write(database, _event(1))
        assert is_database_unavailable(raised.value)  # a 503 for the API, not a 500
        async with database.sessionmaker() as session:  # a new connection, which works
            assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
        await _write(database, _event(2))
        assert list(await _stored(database)) == ["evt_0002"]
