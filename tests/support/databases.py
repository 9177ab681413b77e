"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test run."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from app.core.database import Database, ReadOnlySession, create_engine
from app.core.migrations import upgrade

# The server to test on, and the database to connect to there: each run creates and drops
# its own database through it, so the maintenance database every cluster has is the default
# (a stock PostgreSQL needs nothing made first, issue 9 §8).
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def postgres_server_url() -> str:
    return os.environ.get("SCMS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class PostgresProblem:
    """Why the test server cannot be used; ``answered`` when a server is there after all
    (a wrong database name or a refused login is a mistake to fix, not a server to skip)."""

    message: str
    answered: bool

    def __str__(self) -> str:
        return self.message


async def postgres_reachable(url: str | None = None) -> PostgresProblem | None:
    """None when the server answers on the database ``url`` names, else what is wrong:
    "server unreachable" (nothing answers) told apart from "database missing"."""
    url = url or postgres_server_url()
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    except asyncpg.InvalidCatalogNameError:
        return PostgresProblem(
            f"database missing: the PostgreSQL server at {where} answers but has no database "
            f"{parsed.database!r} (SCMS_TEST_POSTGRES_URL). Name one that exists, such as the "
            "maintenance database: postgresql+asyncpg://postgres@127.0.0.1:5432/postgres "
            "(each run creates and drops its own database through it).",
            answered=True,
        )
    except asyncpg.PostgresError as exc:
        return PostgresProblem(
            f"server refused the connection: the PostgreSQL server at {where} answers but "
            f"refuses SCMS_TEST_POSTGRES_URL ({type(exc).__name__}: {exc}).",
            answered=True,
        )
    except (OSError, TimeoutError, asyncpg.InterfaceError) as exc:
        return PostgresProblem(
            f"server unreachable: no PostgreSQL answers at {where} "
            f"(SCMS_TEST_POSTGRES_URL; {type(exc).__name__}: {exc}).",
            answered=False,
        )
    await conn.close()
    return None


async def postgres_or_skip() -> None:
    """Skip the test when no PostgreSQL answers (fail with REQUIRE_POSTGRES=1); fail when
    one answers but refuses (no such database, say): that is a mistake to fix, not skip."""
    problem = await postgres_reachable()
    if problem is None:
        return
    if problem.answered or os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL cannot be used: {problem}", pytrace=False)
    pytest.skip(f"PostgreSQL unreachable: {problem}")


@asynccontextmanager
async def fresh_database(kind: str, directory: Path) -> AsyncIterator[str]:
    """Yield the URL of a new, empty database of ``kind``; drop it afterwards."""
    if kind == "sqlite":
        path = directory / f"scms-{secrets.token_hex(4)}.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    await postgres_or_skip()
    server = postgres_server_url()
    name = f"scms_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_asyncpg_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def own_postgres(directory: Path, pool_size: int = 5) -> AsyncIterator[Database]:
    """A migrated PostgreSQL database of the test's own whose sessions connect themselves,
    as the API's do (the ``database`` fixture's join the test's outer transaction)."""
    async with fresh_database("postgres", directory) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(create_engine(url, pool_size=pool_size))
        try:
            yield database
        finally:
            await database.dispose()


class BoundDatabase(Database):
    """A Database whose sessions all join one outer transaction that the test rolls back.

    The request dependency's ``commit()`` then only releases a SAVEPOINT, so every test
    starts from the migrated state without truncating anything.
    """

    def __init__(self, engine: AsyncEngine, connection: AsyncConnection) -> None:
        self.engine = engine
        self.connection = connection
        self._turns = None  # one connection, the test's: nothing to take turns for
        self.sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        # A GET's session: the same connection, and it refuses to write as in production.
        self.read_sessionmaker = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
            sync_session_class=ReadOnlySession,
        )

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """The test's one connection: the statement joins the outer transaction (in a
        SAVEPOINT, so that an error leaves it usable), as the sessions do."""
        async with self.connection.begin_nested():
            yield self.connection

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A GET's connection: the test's one, in a SAVEPOINT as the sessions are."""
        async with self.autocommit() as connection:
            yield connection
