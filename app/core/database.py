"""The async engine, the session factories and the request-scoped session dependency.

The request's session is the unit of work: it commits when the route returns and rolls
back when anything raises. Services and repositories only ``flush()``; bulk jobs open
their own sessions and commit in batches, explicitly.

A read (GET, HEAD) gets a read-only session (issue 11): on PostgreSQL it runs without a
transaction (autocommit: no BEGIN and COMMIT round trips around a single SELECT); on
SQLite it begins with a plain ``BEGIN`` (a snapshot that takes no write lock), so readers
never queue behind one another nor behind the writers. A read-only session refuses to
flush ORM changes; a GET that writes (a document rendered once, on its first read) asks
for :data:`WriteSessionDep` instead.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from pydantic_core import from_json
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from app.core.commit_writes import reached_database
from app.core.outage import mark_disconnects
from app.core.settings import Settings

# The execution option that marks a read-only engine (see Database.read_sessionmaker).
READ_ONLY = "scms_read_only"

# What a read runs its statements on: a request's session, or a read's Core connection.
Executor = AsyncSession | AsyncConnection


def dialect_of(executor: Executor) -> str:
    bind = executor.get_bind() if isinstance(executor, AsyncSession) else executor
    return bind.dialect.name


READ_METHODS = frozenset({"GET", "HEAD"})


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _prepare_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """Foreign keys on, WAL, and transactions we control.

    pysqlite's own implicit BEGIN breaks SAVEPOINTs and starts transactions late; we turn
    it off and emit ``BEGIN IMMEDIATE`` ourselves, which takes the write lock up front so
    two writers queue instead of failing half-way with "database is locked". A read-only
    connection begins with a plain ``BEGIN``: a read snapshot (WAL) without the write lock.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # Database.autocommit(): each statement is its own transaction
        conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")


# JSON columns and the JSON aggregations of the read paths (issue 11) are decoded by
# pydantic's Rust parser: about twice as fast as the json module, the same values.


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    connect_timeout: float = 5,
    statement_timeout: float | None = None,
    pool_timeout: float = 30,
) -> AsyncEngine:
    """An engine whose waits are bounded (issue 9 §7).

    ``connect_timeout`` bounds opening a connection, ``pool_timeout`` waiting for a free
    one in the pool (the server sets it to the connect timeout too). ``statement_timeout``
    (None: no limit, for migrations and tests) is PostgreSQL's ``statement_timeout``, with
    a client-side backstop one second later for a server that cannot even answer (a
    partition); on SQLite it is the busy timeout (default 30 s).
    A connection that failed that way is invalidated, not pooled again (app/core/outage.py),
    which is how the service recovers by itself once the database is back.
    """
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        busy = statement_timeout if statement_timeout is not None else 30
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": busy}, json_deserializer=from_json
        )
        _prepare_sqlite(engine, int(busy * 1000))
        return engine
    connect_args: dict[str, Any] = {"timeout": connect_timeout}
    if statement_timeout is not None:
        connect_args["command_timeout"] = statement_timeout + 1
        connect_args["server_settings"] = {"statement_timeout": str(int(statement_timeout * 1000))}
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        # No overflow (issue 11): under a burst, connections opened beyond the pool were
        # closed again as soon as they were returned - a connect (TLS attempt, DNS in a
        # thread, authentication) per burst request. A burst waits for a pooled one instead.
        max_overflow=0,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
        json_deserializer=from_json,
    )
    event.listen(engine.sync_engine, "handle_error", mark_disconnects)
    return engine


def engine_from_settings(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """The engine of the server and the CLI: SCMS_DB_* sizes and timeouts."""
    return create_engine(
        settings.database_url,
        pool_size=pool_size or settings.db_pool_size,
        echo=settings.db_echo,
        connect_timeout=settings.db_connect_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        pool_timeout=settings.db_connect_timeout_seconds,
    )


def read_only_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for reads: autocommit on PostgreSQL (no transaction
    round trips), a plain ``BEGIN`` on SQLite (no write lock)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY: True})
    return engine.execution_options(**{READ_ONLY: True})


class ReadOnlySession(Session):
    """A session that refuses to flush changes: on PostgreSQL it has no transaction."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError(
            "A read-only session (a GET request's) cannot write: declare WriteSessionDep."
        )


def read_sessionmaker(read_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on :func:`read_only_engine`'s engine."""
    return async_sessionmaker(
        read_engine, expire_on_commit=False, sync_session_class=ReadOnlySession
    )


class FairTurns:
    """First come, first served for the pool's connections (issue 11).

    SQLAlchemy's async pool queues its waiters on an ``asyncio.Queue``: a waiter woken
    for a returned connection finds it taken by a request that arrived meanwhile, and goes
    back to the end of the queue. Under a load heavier than the pool, some requests lost
    that race again and again: seconds at the p99, and timeouts. Taking a turn here first,
    on a semaphore that serves its waiters in order, at most ``size`` readers reach the
    pool at once and each gets the connection it queued for. The wait is bounded as the
    pool's is (``timeout``), and ends as the pool's does, with SQLAlchemy's TimeoutError
    (a 503, app/core/outage.py).
    """

    def __init__(self, size: int, timeout: float) -> None:
        self.size, self.timeout = size, timeout
        # One semaphore per event loop: a Database may outlive a loop (the CLI's runs).
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.size)
        return semaphore

    def turn(self) -> AbstractAsyncContextManager[None]:
        return _Turn(self)


class _Turn:
    """One turn of :class:`FairTurns` (a class: see :class:`_UnitOfWork`)."""

    __slots__ = ("semaphore", "turns")

    def __init__(self, turns: FairTurns) -> None:
        self.turns = turns
        self.semaphore = turns._semaphore()

    async def __aenter__(self) -> None:
        semaphore = self.semaphore
        if not semaphore.locked():
            await semaphore.acquire()  # free: no wait to bound (and no timer to arm)
            return
        try:
            async with asyncio.timeout(self.turns.timeout):
                await semaphore.acquire()
        except TimeoutError as exc:
            size, timeout = self.turns.size, self.turns.timeout
            raise sa_exc.TimeoutError(
                f"no connection of the pool's {size} free within {timeout} s"
            ) from exc

    async def __aexit__(self, *_: object) -> None:
        self.semaphore.release()


class Database:
    """The engine and session factories of one running application."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.read_engine = read_only_engine(engine)
        pool = engine.pool
        self._turns = (
            FairTurns(pool.size(), pool.timeout()) if isinstance(pool, QueuePool) else None
        )
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        self.read_sessionmaker = read_sessionmaker(self.read_engine)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which each statement commits by itself (no BEGIN or COMMIT
        round trips): for the one-statement writes that need no transaction."""
        async with self.engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    def commit_turn(self, session: AsyncSession) -> AbstractAsyncContextManager[None]:
        """A turn (:class:`FairTurns`) for the commit of a session that has not reached
        the database yet: the commit is then its one checkout (a customer create's one
        statement, app/core/commit_writes.py), taken in arrival order as the reads take
        theirs. A session that holds its connection already needs no turn (and must not
        wait for one while it holds it)."""
        if self._turns is None or reached_database(session.sync_session):
            return nullcontext()
        return self._turns.turn()

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A read's Core connection: read-only as the read sessions are (no transaction on
        PostgreSQL, a snapshot without the write lock on SQLite)."""
        turn = self._turns.turn() if self._turns is not None else nullcontext()
        async with turn, self.read_engine.connect() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


# Issue 12 §1: a request sent with an Idempotency-Key runs in a unit of work that the
# idempotency middleware (app/core/idempotency.py) owns: it may have begun the session's
# transaction already (to look at the key), and it commits the session itself, together
# with the answer it keeps.
UNIT_OF_WORK = "idempotent_unit_of_work"


class OwnedUnitOfWork(Protocol):
    """The owner of a request's session: it makes the session (or made it already),
    commits it and closes it; the route's dependency rolls it back when the route fails."""

    def session(self, maker: async_sessionmaker[AsyncSession]) -> AsyncSession: ...


class _UnitOfWork:
    """Commit on success (in a turn of ``database``'s when the commit is the session's
    first use of it), roll back on any error; with an ``owner``, leave a successful
    session uncommitted and open for the owner to commit. (A class, not a generator in
    ``asynccontextmanager``: every request enters one, and a layer of contextlib's
    machinery cost more than what it does: issue 11.)"""

    __slots__ = ("database", "owner", "session")

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        owner: OwnedUnitOfWork | None = None,
        database: Database | None = None,
    ) -> None:
        self.owner, self.database = owner, database
        self.session = owner.session(maker) if owner is not None else maker()

    async def __aenter__(self) -> AsyncSession:
        return self.session

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            await self._roll_back()
            return  # (the error goes on)
        if self.owner is not None:
            return
        turn = self.database.commit_turn(self.session) if self.database else nullcontext()
        try:
            async with turn:
                # One hop into SQLAlchemy's greenlet for both, not one each.
                await self.session.run_sync(_commit_and_close)
        except BaseException:
            await self._roll_back()
            raise

    async def _roll_back(self) -> None:
        try:
            await self.session.rollback()
        finally:
            if self.owner is None:
                await self.session.close()


def _commit_and_close(session: Session) -> None:
    session.commit()
    session.close()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; commit on success, roll back on any error. A GET or HEAD
    request's session is read-only (no transaction on PostgreSQL, no write lock on SQLite);
    an idempotent write's belongs to the idempotency middleware."""
    database = get_database(request)
    if request.method in READ_METHODS:
        async with _UnitOfWork(database.read_sessionmaker) as session:
            yield session
        return
    owner = request.scope.get("state", {}).get(UNIT_OF_WORK)
    async with _UnitOfWork(database.sessionmaker, owner, database) as session:
        yield session


async def get_write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The session of a GET that writes (a document fixed on its first read)."""
    database = get_database(request)
    async with _UnitOfWork(database.sessionmaker, database=database) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The read-only session of a POST that only reads (a quote: a question put in a
    body, no change): no transaction on PostgreSQL, no write lock on SQLite."""
    async with _UnitOfWork(get_database(request).read_sessionmaker) as session:
        yield session


async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A GET's Core connection (issue 11): the read paths that select plain columns take
    it, an ORM session would only add its unit of work around them."""
    async with get_database(request).read_connection() as connection:
        yield connection


# scope="function": the commit happens when the route function returns, before the
# response is sent, so a failed commit becomes an error response, not a lost write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadConnectionDep = Annotated[AsyncConnection, Depends(get_read_connection, scope="function")]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
