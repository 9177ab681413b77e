"""Issue 11: a read run on the driver itself answers what SQLAlchemy answers.

``DriverSelect`` (app/core/driver.py) hands a compiled statement to asyncpg where no value
needs converting and nothing listens to the engine's statements; everywhere else
SQLAlchemy runs it. These tests hold the two ways to the same rows, check which way each
case takes, and that a connection the database dropped is thrown away."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import JSON, bindparam, event, func, literal, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.contracts.models import Contract
from app.contracts.repository import _one_record
from app.core.clock import FixedClock
from app.core.driver import DriverSelect
from app.core.models import UtcDateTime
from tests.contracts.steps import at
from tests.support.databases import BoundDatabase
from tests.support.factories import EXAMPLE_B, activate, apply, create_customer, post_ok

Headers = dict[str, str]


async def _contract_with_history(
    client: httpx.AsyncClient, admin: Headers, clock: FixedClock
) -> str:
    at(clock, date(2026, 5, 1))
    customer = await create_customer(client, admin)
    active = await activate(client, admin, await apply(client, admin, customer["id"], **EXAMPLE_B))
    at(clock, date(2026, 11, 24))
    body = {"effective_on": "2026-12-01", "license_ids": 130}
    await post_ok(client, f"/v1/contracts/{active['id']}/license-changes", admin, body)
    return str(active["id"])


async def _through_sqlalchemy(
    connection: AsyncConnection, select_: DriverSelect, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in (await connection.execute(select_.statement, params)).all()]


async def test_the_contract_read_gives_sqlalchemys_row_on_either_path(
    client: httpx.AsyncClient,
    admin: Headers,
    clock: FixedClock,
    database: BoundDatabase,
    db_kind: str,
) -> None:
    contract_id = await _contract_with_history(client, admin, clock)
    async with database.read_connection() as connection:
        select_ = _one_record(connection.dialect.name)
        # On PostgreSQL the statement runs on asyncpg: the fast path is taken, not
        # silently skipped; on SQLite SQLAlchemy runs it.
        assert (select_._for(connection) is not None) is (db_kind == "postgres")
        row = await select_.first(connection, {"contract_id": contract_id})
        expected = await _through_sqlalchemy(connection, select_, {"contract_id": contract_id})
        assert row is not None
        assert [tuple(row)] == expected
        by_name = dict(zip(row._fields, expected[0], strict=True))
        assert (row.id, row.version) == (contract_id, by_name["version"])
        assert row.created_at == by_name["created_at"]
        assert row.created_at.tzinfo is not None
        assert await select_.first(connection, {"contract_id": "ctr_none"}) is None


async def test_fixed_parameters_and_many_rows(database: BoundDatabase, db_kind: str) -> None:
    contracts = Contract.__table__.c
    statement = (
        select(contracts.id, literal("x").label("fixed"))
        .where(contracts.id > bindparam("after"))
        .order_by(contracts.id)
    )
    select_ = DriverSelect(statement)
    async with database.read_connection() as connection:
        # A fixed value and a required one: the driver runs it on PostgreSQL.
        assert (select_._for(connection) is not None) is (db_kind == "postgres")
        rows = await select_.all(connection, {"after": ""})
        assert [tuple(r) for r in rows] == await _through_sqlalchemy(
            connection, select_, {"after": ""}
        )
        assert all(r.fixed == "x" for r in rows)


@pytest.fixture
def postgres(db_kind: str) -> None:
    if db_kind != "postgres":
        pytest.skip("asyncpg's own path")


@pytest.mark.postgres_only
@pytest.mark.usefixtures("postgres")
async def test_what_sqlalchemy_would_convert_goes_through_sqlalchemy(
    database: BoundDatabase,
) -> None:
    converted = DriverSelect(select(literal({"a": 1}, JSON).label("document")))
    expanding = DriverSelect(
        select(Contract.__table__.c.id).where(
            Contract.__table__.c.id.in_(bindparam("ids", expanding=True))
        )
    )
    computed = DriverSelect(select(bindparam("at", callable_=lambda: "now").label("at")))
    async with database.read_connection() as connection:
        assert computed._for(connection) is None
        assert (await computed.first(connection, {})) == ("now",)
        assert converted._for(connection) is None
        assert (await converted.first(connection, {})) == ({"a": 1},)
        assert expanding._for(connection) is None
        assert await expanding.all(connection, {"ids": ["ctr_none"]}) == []


@pytest.mark.postgres_only
@pytest.mark.usefixtures("postgres")
async def test_a_statement_listener_is_told_of_every_statement(
    database: BoundDatabase,
) -> None:
    """A counter on the engine (tests/perf) sees the statement: SQLAlchemy runs it then."""
    select_ = _one_record("postgresql")
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    async with database.read_connection() as connection:
        assert select_._for(connection) is not None
        event.listen(database.engine.sync_engine, "before_cursor_execute", count)
        try:
            assert select_._for(connection) is None
            await select_.first(connection, {"contract_id": "ctr_none"})
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    assert len(seen) == 1
    assert "FROM contracts" in seen[0]


@pytest.mark.postgres_only
@pytest.mark.usefixtures("postgres")
async def test_a_connection_the_database_dropped_is_thrown_away(database_url: str) -> None:
    engine = create_async_engine(database_url, pool_size=2, max_overflow=0)
    select_ = _one_record("postgresql")
    try:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await connection.commit()
            async with engine.connect() as other:
                await other.execute(text(f"SELECT pg_terminate_backend({pid})"))
            # The driver's own error: the server's goodbye, "connection is closed", or its
            # protocol caught mid-message by the goodbye (which of them is a race).
            gone = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
            with pytest.raises((*gone, OSError)):
                await select_.first(connection, {"contract_id": "ctr_none"})
            assert connection.invalidated
        async with engine.connect() as connection:  # a new connection, which works
            assert await select_.first(connection, {"contract_id": "ctr_none"}) is None
    finally:
        await engine.dispose()


@pytest.mark.postgres_only
@pytest.mark.usefixtures("postgres")
async def test_instants_read_back_in_utc_whatever_the_sessions_time_zone(
    database: BoundDatabase, clock: FixedClock
) -> None:
    """UtcDateTime converts nothing on asyncpg (which is what lets the contract read run
    on the driver): asyncpg gives timestamptz as UTC even when the session's TimeZone is
    Tokyo, through SQLAlchemy and through the driver alike."""
    async with database.read_connection() as connection:
        await connection.execute(text("SET LOCAL TIME ZONE 'Asia/Tokyo'"))
        instant = (await connection.execute(select(literal(clock.now(), UtcDateTime)))).scalar()
        assert instant == clock.now()
        assert instant.utcoffset() == timedelta(0)
        select_ = DriverSelect(select(type_coerce(func.now(), UtcDateTime).label("at")))
        assert select_._for(connection) is not None
        row = await select_.first(connection, {})
        assert row is not None
        assert row.at.utcoffset() == timedelta(0)
