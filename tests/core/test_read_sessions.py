"""Issue 11: a read takes no write lock and no transaction it does not need.

On SQLite a GET's session begins with a plain BEGIN (a WAL snapshot), so a writer can
take the write lock while it reads; a write session still begins IMMEDIATE. A read-only
session refuses to flush changes (on PostgreSQL it has no transaction to put them in).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app.core.database import Database, create_engine
from app.core.migrations import upgrade
from app.customers.models import Customer
from tests.support.databases import fresh_database


def _try_write_lock(url: str) -> bool:
    other = sqlite3.connect(make_url(url).database or "", isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@asynccontextmanager
async def _sqlite(db_kind: str, tmp_path: Path) -> AsyncIterator[tuple[str, Database]]:
    """A migrated SQLite file of the test's own and its Database (SQLite runs only)."""
    if db_kind != "sqlite":
        pytest.skip("SQLite's write lock")
    async with fresh_database("sqlite", tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(create_engine(url))
        try:
            yield url, database
        finally:
            await database.dispose()


async def test_a_sqlite_read_leaves_the_write_lock_free_and_a_write_takes_it(
    db_kind: str, tmp_path: Path
) -> None:
    async with _sqlite(db_kind, tmp_path) as (url, database):
        async with database.read_sessionmaker() as session:
            await session.scalar(select(Customer.id).limit(1))
            assert session.in_transaction()
            assert _try_write_lock(url)
        async with database.sessionmaker() as session:
            await session.scalar(select(Customer.id).limit(1))
            assert not _try_write_lock(url)


async def test_a_sqlite_autocommit_statement_takes_no_lock_and_leaves_none(
    db_kind: str, tmp_path: Path
) -> None:
    """Database.autocommit() (the Idempotency-Key's look, issue 12): no BEGIN IMMEDIATE
    around it, and no transaction left open on the pooled connection after it."""
    async with _sqlite(db_kind, tmp_path) as (url, database):
        async with database.autocommit() as connection:
            await connection.scalar(select(Customer.id).limit(1))
            assert _try_write_lock(url)
        assert _try_write_lock(url)


async def test_a_postgresql_read_runs_outside_a_transaction(
    db_kind: str, database_url: str
) -> None:
    if db_kind != "postgres":
        pytest.skip("PostgreSQL's autocommit")
    database = Database(create_engine(database_url))
    xid = text("SELECT txid_current()")  # a new id in each transaction
    try:
        async with database.read_sessionmaker() as session:
            # Each statement is a transaction of its own (autocommit): no BEGIN, no COMMIT.
            assert await session.scalar(xid) != await session.scalar(xid)
        async with database.sessionmaker() as session:
            assert await session.scalar(xid) == await session.scalar(xid)
    finally:
        await database.dispose()


async def test_a_read_only_session_refuses_to_write(database_url: str) -> None:
    database = Database(create_engine(database_url))
    try:
        async with database.read_sessionmaker() as session:
            now = datetime.now(UTC)
            session.add(
                Customer(
                    id="cus_read_only",
                    name="x",
                    billing_name="x",
                    email="x@example.jp",
                    created_at=now,
                    updated_at=now,
                )
            )
            with pytest.raises(RuntimeError, match="read-only session"):
                await session.flush()
    finally:
        await database.dispose()
