"""Rows written at commit (app/core/commit_writes.py; issue 12 §6): the outbox's events,
the operation log's entries and an Idempotency-Key's answer cost a request no round trip
of their own, and still commit or roll back with the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

from app.core.commit_writes import CommitRefused, Template, execute_at_commit, insert_at_commit
from app.core.database import Database
from app.events.models import Event
from tests.support.databases import BoundDatabase, own_postgres

EVENTS = cast(Table, Event.__table__)
RENAME = Template(
    update(Event).where(Event.id == bindparam("rename_id")).values(type=bindparam("rename_type")),
    must_change="no such event",
)


def _event(n: int) -> dict[str, Any]:
    return {
        "id": f"evt_{n:04d}",
        "type": "customer.created",
        "occurred_at": datetime(2026, 6, 15, tzinfo=UTC),
        "customer_id": None,
        "resource_type": "customer",
        "resource_id": f"cus_{n}",
        "data": {"n": n},
        "request_id": None,
        "dispatched_at": None,
    }


async def _events(database: BoundDatabase) -> list[str]:
    async with database.sessionmaker() as session:
        return list(await session.scalars(select(Event.id).order_by(Event.id)))


@pytest.mark.parametrize("rows", [1, 3, 40])
async def test_rows_are_written_by_the_commit(database: BoundDatabase, rows: int) -> None:
    """A few in one statement on PostgreSQL; a batch's many an executemany per table."""
    async with database.sessionmaker() as session:
        for n in range(rows):
            insert_at_commit(session, EVENTS, _event(n))
        assert await session.scalar(select(func.count()).select_from(Event)) == 0
        await session.commit()
    assert await _events(database) == [f"evt_{n:04d}" for n in range(rows)]


async def test_a_rollback_takes_the_rows_back(database: BoundDatabase) -> None:
    async with database.sessionmaker() as session:
        insert_at_commit(session, EVENTS, _event(1))
        await session.rollback()
        await session.commit()
    assert await _events(database) == []


async def test_nothing_is_recorded_inside_a_savepoint(database: BoundDatabase) -> None:
    async with database.sessionmaker() as session, session.begin_nested():
        with pytest.raises(RuntimeError, match="SAVEPOINT"):
            insert_at_commit(session, EVENTS, _event(1))


async def _refused(database: Database) -> None:
    """A commit of a row and of a template that changes nothing: refused."""
    async with database.sessionmaker() as session:
        insert_at_commit(session, EVENTS, _event(1))
        execute_at_commit(session, RENAME, {"rename_id": "evt_none", "rename_type": "x"})
        with pytest.raises(CommitRefused, match="no such event"):
            await session.commit()
        await session.rollback()


async def test_a_template_that_must_change_a_row_refuses_the_commit(
    database: BoundDatabase,
) -> None:
    await _refused(database)
    assert await _events(database) == []
    async with database.sessionmaker() as session:
        insert_at_commit(session, EVENTS, _event(2))
        await session.commit()
    async with database.sessionmaker() as session:
        execute_at_commit(session, RENAME, {"rename_id": "evt_0002", "rename_type": "renamed"})
        await session.commit()
    async with database.sessionmaker() as session:
        assert await session.scalar(select(Event.type)) == "renamed"


async def test_on_postgresql_the_rows_and_templates_are_one_statement(
    database: BoundDatabase, db_kind: str
) -> None:
    if db_kind != "postgres":
        pytest.skip("SQLite has no round trips to save: a statement each")
    async with database.sessionmaker() as session:
        insert_at_commit(session, EVENTS, _event(3))
        await session.commit()
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with database.sessionmaker() as session:
            insert_at_commit(session, EVENTS, _event(1))
            insert_at_commit(session, EVENTS, _event(2))
            execute_at_commit(session, RENAME, {"rename_id": "evt_0003", "rename_type": "y"})
            await session.commit()
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    writes = [s for s in statements if "events" in s]
    assert len(writes) == 1, statements
    assert writes[0].lstrip().startswith("WITH")
    assert await _events(database) == ["evt_0001", "evt_0002", "evt_0003"]


# --- a session with a connection of its own (as the API's are): autocommit ---------------


def _postgres_only(db_kind: str) -> None:
    if db_kind != "postgres":
        pytest.skip("autocommit saves PostgreSQL's BEGIN and COMMIT round trips")


def _statements(database: Database) -> tuple[list[tuple[str, Any]], Callable[[], None]]:
    """The statements sent, each with the isolation level of its connection."""
    seen: list[tuple[str, Any]] = []

    def _seen(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append((statement.split()[0], conn.get_execution_options().get("isolation_level")))

    event.listen(database.engine.sync_engine, "before_cursor_execute", _seen)
    return seen, lambda: event.remove(database.engine.sync_engine, "before_cursor_execute", _seen)


async def _stored(database: Database) -> list[str]:
    async with database.sessionmaker() as session:
        return list(await session.scalars(select(Event.id).order_by(Event.id)))


async def test_writes_that_are_the_whole_transaction_are_one_statement_in_autocommit(
    db_kind: str, tmp_path: Path
) -> None:
    _postgres_only(db_kind)
    async with own_postgres(tmp_path) as database:
        seen, stop = _statements(database)
        try:
            async with database.sessionmaker() as session:
                insert_at_commit(session, EVENTS, _event(1))
                insert_at_commit(session, EVENTS, _event(2))
                await session.commit()
            async with database.sessionmaker() as session:
                insert_at_commit(session, EVENTS, _event(3))  # one row: one statement too
                await session.commit()
        finally:
            stop()
        assert seen == [("WITH", "AUTOCOMMIT"), ("WITH", "AUTOCOMMIT")]
        assert await _stored(database) == ["evt_0001", "evt_0002", "evt_0003"]
        # The pooled connection is handed on in transactions again (one connection: the
        # sessions came one after the other).
        pool = database.engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedin() == 1
        async with database.sessionmaker() as session:
            xid = text("SELECT txid_current()")  # a new id in each transaction
            assert await session.scalar(xid) == await session.scalar(xid)


async def test_a_failing_statement_in_autocommit_writes_none_of_its_rows(
    db_kind: str, tmp_path: Path
) -> None:
    _postgres_only(db_kind)
    async with own_postgres(tmp_path) as database:
        async with database.sessionmaker() as session:
            insert_at_commit(session, EVENTS, _event(1))
            await session.commit()
        async with database.sessionmaker() as session:
            insert_at_commit(session, EVENTS, _event(2))
            insert_at_commit(session, EVENTS, _event(1))  # the id is taken
            with pytest.raises(IntegrityError):
                await session.commit()
            await session.rollback()
        assert await _stored(database) == ["evt_0001"]


async def test_writes_after_a_statement_of_the_transaction_commit_in_it(
    db_kind: str, tmp_path: Path
) -> None:
    """What the transaction did before its commit (a read, a lock) is not committed on
    its own, and the writes go in its transaction, which COMMIT ends."""
    _postgres_only(db_kind)
    async with own_postgres(tmp_path) as database:
        seen, stop = _statements(database)
        try:
            async with database.sessionmaker() as session:
                await session.scalar(select(func.count()).select_from(Event))
                insert_at_commit(session, EVENTS, _event(1))
                insert_at_commit(session, EVENTS, _event(2))
                await session.commit()
        finally:
            stop()
        assert [isolation for _, isolation in seen] == [None, None]
        assert await _stored(database) == ["evt_0001", "evt_0002"]


async def test_a_template_that_may_refuse_or_a_pending_orm_change_keeps_the_transaction(
    db_kind: str, tmp_path: Path
) -> None:
    """A refusal is known only after the statement, and an ORM change is flushed after the
    writes: neither can be left to autocommit. The refused commit writes nothing."""
    _postgres_only(db_kind)
    async with own_postgres(tmp_path) as database:
        seen, stop = _statements(database)
        try:
            await _refused(database)
            assert seen == [("WITH", None)]
            async with database.sessionmaker() as session:
                session.add(Event(**_event(2)))
                insert_at_commit(session, EVENTS, _event(3))
                await session.commit()
        finally:
            stop()
        assert all(isolation is None for _, isolation in seen), seen
        assert await _stored(database) == ["evt_0002", "evt_0003"]
