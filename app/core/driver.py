"""The polled reads' one statement, run on the database driver itself (issue 11).

A Core ``SELECT`` through SQLAlchemy costs, on PostgreSQL, about three times what
asyncpg's own ``fetch`` of the same statement costs: the compiled cache's key, the
execution context, the greenlet hop into the synchronous core and back, the cursor
adapter and the result's row processing, for a statement that is always the same and
whose values need no conversion. :class:`DriverSelect` compiles its statement once per
dialect and, where that is exact, hands the SQL and its parameters to asyncpg:

- only on an asyncpg connection (SQLite, aiosqlite, runs in a thread either way and goes
  through SQLAlchemy);
- only for a statement whose columns and parameters SQLAlchemy would not convert (no
  result or bind processor: the values are the driver's in both ways) and that expands no
  list parameter: otherwise it always goes through SQLAlchemy;
- only while nothing listens to the engine's statements (a statement counter, ``echo``):
  a listener is told of every statement, so then SQLAlchemy runs it;
- an error that leaves the connection unusable (the database away, a timeout) discards
  the connection as the engine's own hook does (app/core/outage.py), so it is not pooled
  again; the error reaches the outage handler (a 503) as the driver raised it.

Rows are named tuples in the statement's column order: the same values, and the same
attribute and tuple access, as SQLAlchemy's rows.

:func:`run_alone` does the same for a write that is a whole transaction by itself (a
customer create's one statement, app/core/commit_writes.py): SQLAlchemy's execution of
that statement, with its forty-odd parameters, was a seventh of a create's CPU. Its values
are converted by SQLAlchemy's own bind processors (JSON to text, instants to UTC), so the
driver receives what SQLAlchemy would send; an error reaches the caller as SQLAlchemy
would have raised it (an ``IntegrityError``, ...), so the two ways cannot be told apart.
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import await_

from app.core.outage import connection_gone

if TYPE_CHECKING:  # (the database module writes through this one: app/core/commit_writes.py)
    from app.core.database import Executor

# The engine events a statement run on the driver would not be told to.
_STATEMENT_EVENTS = (
    "before_execute",
    "after_execute",
    "before_cursor_execute",
    "after_cursor_execute",
)
_MISSING = object()


Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """The statement as the driver takes it."""

    sql: str
    # (parameter name, its fixed value or _MISSING, SQLAlchemy's bind processor or None)
    arguments: tuple[tuple[str, Any, Convert | None], ...]
    row: type[tuple[Any, ...]]

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, fixed, convert in self.arguments:
            value = params[name] if fixed is _MISSING else fixed
            # (None too: a JSON column's None is JSON's null for SQLAlchemy, not SQL's NULL)
            values.append(value if convert is None else convert(value))
        return values


def _compile(statement: Select[Any], dialect: Dialect, *, convert: bool) -> _Compiled | None:
    """The SQL and parameter order for asyncpg, or None when the driver cannot run it as
    SQLAlchemy would (then SQLAlchemy must): a result value SQLAlchemy would convert, or a
    parameter value, unless ``convert`` (the parameters then go through SQLAlchemy's own
    bind processors)."""
    compiled = statement.compile(dialect=dialect)
    processors = compiled._bind_processors
    if compiled.positiontup is None or (processors and not convert):
        return None
    for column in compiled._result_columns:
        if column.type._cached_result_processor(dialect, None) is not None:
            return None
    arguments: list[tuple[str, Any, Convert | None]] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None  # a list to expand, a value to compute at each execution
        convert_it = processors.get(name)
        if convert_it is not None and not callable(convert_it):
            return None  # a tuple's value, converted member by member
        fixed = _MISSING if bind.required else bind.effective_value
        arguments.append((name, fixed, convert_it))
    keys = [column.keyname for column in compiled._result_columns]
    row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]
    return _Compiled(compiled.string, tuple(arguments), row)


def _observed(target: Connection | Engine) -> bool:
    if target.engine.echo:
        return True
    dispatch = target.dispatch
    return any(getattr(dispatch, name) for name in _STATEMENT_EVENTS)


class DriverSelect:
    """One Core ``SELECT``, run on asyncpg where that is exact, else by SQLAlchemy."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: WeakKeyDictionary[Dialect, _Compiled | None] = WeakKeyDictionary()

    def _for(self, executor: Executor) -> tuple[_Compiled, Any] | None:
        """The compiled statement and the asyncpg connection, when the driver may run it."""
        if not isinstance(executor, AsyncConnection):
            return None
        sync = executor.sync_connection
        if sync is None or sync.dialect.driver != "asyncpg" or sync.invalidated or sync.closed:
            return None
        if _observed(sync):
            return None
        dialect = sync.dialect
        if dialect not in self._compiled:
            self._compiled[dialect] = _compile(self.statement, dialect, convert=False)
        compiled = self._compiled[dialect]
        if compiled is None:
            return None
        return compiled, sync.connection.driver_connection

    async def all(self, executor: Executor, params: Mapping[str, Any]) -> Sequence[Any]:
        plan = self._for(executor)
        if plan is None:
            rows: Sequence[Any] = (await executor.execute(self.statement, dict(params))).all()
            return rows
        make = plan[0].row._make  # type: ignore[attr-defined]
        return [make(record) for record in await _on_driver(executor, plan, "fetch", params)]

    async def first(self, executor: Executor, params: Mapping[str, Any]) -> Any | None:
        plan = self._for(executor)
        if plan is None:
            return (await executor.execute(self.statement, dict(params))).first()
        record = await _on_driver(executor, plan, "fetchrow", params)
        return None if record is None else plan[0].row._make(record)  # type: ignore[attr-defined]


async def _on_driver(
    executor: Executor, plan: tuple[_Compiled, Any], method: str, params: Mapping[str, Any]
) -> Any:
    """asyncpg's ``fetch`` or ``fetchrow`` of the compiled statement."""
    compiled, driver = plan
    try:
        return await getattr(driver, method)(compiled.sql, *compiled.values(params))
    except BaseException as exc:
        assert isinstance(executor, AsyncConnection)
        await _discard_if_gone(executor, driver, exc)
        raise


async def _discard_if_gone(connection: AsyncConnection, driver: Any, exc: BaseException) -> None:
    """What the engine's ``handle_error`` hook does for its own statements: a connection
    an outage touched is cut at once (a partitioned server would not answer a polite
    close) and invalidated, so the pool opens a new one instead of handing it out. So is
    one whose client side failed (asyncpg's interface errors: a closed connection, a
    protocol caught mid-message by the server's goodbye): its state is not known."""
    if not _gone(exc):
        return
    with contextlib.suppress(Exception):
        driver.terminate()
    with contextlib.suppress(Exception):
        await connection.invalidate(exc if isinstance(exc, Exception) else None)


def _gone(exc: BaseException) -> bool:
    client_side = isinstance(exc, asyncpg.InterfaceError | asyncpg.InternalClientError)
    return client_side or connection_gone(exc)


# The writes' statements as the driver takes them, per dialect (an engine's).
_ALONE: WeakKeyDictionary[Dialect, dict[Select[Any], _Compiled | None]] = WeakKeyDictionary()


def _alone_form(engine: Engine, statement: Select[Any]) -> _Compiled | None:
    if engine.dialect.driver != "asyncpg" or _observed(engine):
        return None
    forms = _ALONE.setdefault(engine.dialect, {})
    if statement not in forms:
        forms[statement] = _compile(statement, engine.dialect, convert=True)
    return forms[statement]


def runs_alone_on_driver(engine: Engine, statement: Select[Any]) -> bool:
    """Whether :func:`run_alone` may run ``statement`` (else SQLAlchemy must)."""
    return _alone_form(engine, statement) is not None


def run_alone(engine: Engine, statement: Select[Any], params: Mapping[str, Any]) -> Any:
    """The first row of ``statement`` (one of :func:`runs_alone_on_driver`), run by asyncpg
    on a pooled connection taken for it alone, outside any transaction: the statement is
    its own (autocommit). Sync: called in SQLAlchemy's greenlet (a commit hook). A
    connection that failed mid-way (gone, or interrupted) is cut and invalidated."""
    compiled = _alone_form(engine, statement)
    assert compiled is not None, "runs_alone_on_driver() said no"
    values = compiled.values(params)
    pooled = engine.raw_connection()
    driver = pooled.driver_connection
    assert driver is not None
    try:
        return await_(driver.fetchrow(compiled.sql, *values))
    except BaseException as exc:
        raised = _as_sqlalchemy_raises(exc, pooled.dbapi_connection, compiled, values, engine)
        if not isinstance(exc, Exception) or _gone(exc):
            with contextlib.suppress(Exception):
                driver.terminate()
            pooled.invalidate(exc if isinstance(exc, Exception) else None)
        if raised is exc:
            raise
        raise raised from exc
    finally:
        pooled.close()


def _as_sqlalchemy_raises(
    exc: BaseException, adapted: Any, compiled: _Compiled, values: list[Any], engine: Engine
) -> BaseException:
    """The error as SQLAlchemy raises it for its own statements: the driver's error
    translated by SQLAlchemy's adapter (``_handle_exception``) into the DBAPI's, then
    wrapped (an ``IntegrityError`` for a unique violation, ...). Anything the adapter
    does not translate (a timeout, a cancellation) stays as it is, as it would there."""
    dbapi = engine.dialect.loaded_dbapi
    if not isinstance(exc, Exception) or adapted is None:
        return exc
    try:
        adapted._handle_exception(exc)
    except dbapi.Error as translated:
        return sa_exc.DBAPIError.instance(
            compiled.sql,
            values,
            translated,
            dbapi.Error,
            connection_invalidated=_gone(exc),
            dialect=engine.dialect,
        )
    except Exception as other:
        return other
    return exc
