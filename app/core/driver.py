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
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.database import Executor
from app.core.outage import connection_gone

# The engine events a statement run on the driver would not be told to.
_STATEMENT_EVENTS = (
    "before_execute",
    "after_execute",
    "before_cursor_execute",
    "after_cursor_execute",
)
_MISSING = object()


@dataclass(frozen=True, slots=True)
class _Compiled:
    """The statement as the driver takes it."""

    sql: str
    arguments: tuple[tuple[str, Any], ...]  # (parameter name, its fixed value or _MISSING)
    row: type[tuple[Any, ...]]

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] if fixed is _MISSING else fixed for name, fixed in self.arguments]


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
    """The SQL and parameter order for asyncpg, or None when SQLAlchemy would convert a
    value on the way (then it must run the statement)."""
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup is None or compiled._bind_processors:
        return None
    for column in compiled._result_columns:
        if column.type._cached_result_processor(dialect, None) is not None:
            return None
    arguments: list[tuple[str, Any]] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            return None  # a list to expand, a value to compute at each execution
        arguments.append((name, _MISSING if bind.required else bind.effective_value))
    keys = [column.keyname for column in compiled._result_columns]
    row = namedtuple("Row", keys, rename=True)  # type: ignore[misc]
    return _Compiled(compiled.string, tuple(arguments), row)


def _observed(connection: Connection) -> bool:
    if connection.engine.echo:
        return True
    dispatch = connection.dispatch
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
            self._compiled[dialect] = _compile(self.statement, dialect)
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
    client_side = isinstance(exc, asyncpg.InterfaceError | asyncpg.InternalClientError)
    if not (client_side or connection_gone(exc)):
        return
    with contextlib.suppress(Exception):
        driver.terminate()
    with contextlib.suppress(Exception):
        await connection.invalidate(exc if isinstance(exc, Exception) else None)
