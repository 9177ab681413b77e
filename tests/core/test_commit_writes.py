"""Rows written at commit (app/core/commit_writes.py; issue 12 §6): the outbox's events,
the operation log's entries and an Idempotency-Key's answer cost a request no round trip
of their own, and still commit or roll back with the change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, event, func, select, update

from app.core.commit_writes import CommitRefused, Template, execute_at_commit, insert_at_commit
from app.events.models import Event
from tests.support.databases import BoundDatabase

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


async def test_a_template_that_must_change_a_row_refuses_the_commit(
    database: BoundDatabase,
) -> None:
    async with database.sessionmaker() as session:
        insert_at_commit(session, EVENTS, _event(1))
        execute_at_commit(session, RENAME, {"rename_id": "evt_none", "rename_type": "x"})
        with pytest.raises(CommitRefused, match="no such event"):
            await session.commit()
        await session.rollback()
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
