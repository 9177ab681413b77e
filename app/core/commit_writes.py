"""Rows a transaction writes when it commits: in one statement on PostgreSQL.

Some rows are only ever added, and belong to the transaction that records them: the
outbox's events (issue 12 §2), the operation log's entries (issue 13 §3), the answer kept
for an Idempotency-Key (issue 12 §1). Each written when recorded is a round trip of its
own, and a round trip costs a request more than anything it carries (about 0.3 ms of the
server's CPU, measured: issue 12 §6 bounds what the outbox and the key may cost a
request at 15 %). So they are kept on the session and written by its commit:

- on PostgreSQL, in one statement, each part a data-modifying ``WITH`` (they see one
  snapshot and commit or roll back together);
- on SQLite, which has no round trip to save, one statement each.

The session's pending ORM changes are flushed before, so a row here may refer to them.
Statements are built once (:class:`Template`, values bound by name) and the combined
statement once per shape, so SQLAlchemy neither builds nor compiles anything per commit.
A template that *must* change a row makes the commit raise :class:`CommitRefused` when it
changed none; the transaction is then
still open, for its owner to roll back. A rollback forgets what was pending. Nothing can
be recorded inside a SAVEPOINT (a rollback to it would not take the row back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Engine, Table, bindparam, event, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Insert, UpdateBase

from app.core.driver import run_alone, runs_alone_on_driver

# Where a session keeps what its commit writes (Session.info).
PENDING = "commit_writes.pending"
# Up to this many rows and statements go in one statement; more (a batch of the daily
# roll, say) go an executemany per table, as few round trips, each compiled once.
_MOST_IN_ONE = 16
# Run first at every commit, in the order registered: they may add to what is written
# (the operation log links its entries into the hash chain there, app/audit/chain.py).
_BEFORE_WRITING: list[Callable[[Session], None]] = []


class CommitRefused(Exception):
    """A statement that had to change a row changed none: the commit did not happen."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, eq=False)
class Template:
    """A statement written at commit, built once; its values are bound by name (names of
    their own: each template is written at most once per commit). With ``must_change``,
    the commit is refused with that reason when it changed no row."""

    statement: UpdateBase
    must_change: str | None = None


@dataclass
class _Writes:
    rows: dict[Table, list[Mapping[str, Any]]] = field(default_factory=dict)
    templates: list[tuple[Template, Mapping[str, Any]]] = field(default_factory=list)


def before_writing(prepare: Callable[[Session], None]) -> Callable[[Session], None]:
    """Register ``prepare`` to run at each commit before the writes (a decorator)."""
    _BEFORE_WRITING.append(prepare)
    return prepare


def _writes(session: Session | AsyncSession) -> _Writes:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if sync.in_nested_transaction():
        # A rolled-back SAVEPOINT would not take a pending row with it.
        raise RuntimeError("rows written at commit are recorded outside SAVEPOINTs")
    if sync.get_transaction() is None:
        # The row belongs to a transaction, so that its rollback takes the row back
        # (begin() connects lazily: no statement).
        sync.begin()
    writes: _Writes = sync.info.setdefault(PENDING, _Writes())
    return writes


def insert_at_commit(session: Session | AsyncSession, table: Table, row: Mapping[str, Any]) -> None:
    """Insert ``row`` (a value for every column) into ``table`` when ``session`` commits."""
    _writes(session).rows.setdefault(table, []).append(row)


def execute_at_commit(
    session: Session | AsyncSession, template: Template, values: Mapping[str, Any]
) -> None:
    """Execute ``template`` with ``values`` when ``session`` commits."""
    _writes(session).templates.append((template, values))


@event.listens_for(Session, "before_commit")
def _write_on_commit(session: Session) -> None:
    for prepare in _BEFORE_WRITING:
        prepare(session)
    writes: _Writes | None = session.info.pop(PENDING, None)
    if writes is None:
        return
    rows = sum(len(table_rows) for table_rows in writes.rows.values())
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and rows + len(writes.templates) <= _MOST_IN_ONE:
        _write_in_one(session, writes)
        return
    for table, table_rows in writes.rows.items():
        session.execute(insert(table), list(table_rows))
    for template, values in writes.templates:
        result = session.execute(template.statement, dict(values))
        if template.must_change is not None and not getattr(result, "rowcount", 0):
            raise CommitRefused(template.must_change)


@cache
def _row_insert(table: Table, n: int) -> Insert:
    """The single-row INSERT of the ``n``-th row of a combined statement (SQLAlchemy
    caches a single-row INSERT's compiled form, not a multi-row one's)."""
    return insert(table).values(
        {c.key: bindparam(f"row{n}_{c.key}", type_=c.type) for c in table.c}
    )


_Shape = tuple[tuple[tuple[Table, int], ...], tuple[Template, ...]]
_COMBINED: dict[_Shape, Select[Any]] = {}


def _combined(shape: _Shape) -> Select[Any]:
    """One statement for a shape of writes: every part a data-modifying WITH; the
    templates that must change a row return one each, and the outer SELECT counts them."""
    if shape in _COMBINED:
        return _COMBINED[shape]
    tables, templates = shape
    ctes: list[Any] = []
    counts: list[Any] = []
    n = 0
    for table, count in tables:
        for _ in range(count):
            ctes.append(_row_insert(table, n).cte(f"write_{n}"))
            n += 1
    for template in templates:
        if template.must_change is None:
            ctes.append(template.statement.cte(f"write_{n}"))
        else:
            returning = template.statement.returning(literal(1).label("changed")).cte(f"write_{n}")
            ctes.append(returning)
            counts.append(select(func.count()).select_from(returning).scalar_subquery())
        n += 1
    statement = select(*(counts or [literal(1)])).add_cte(*ctes)
    _COMBINED[shape] = statement
    return statement


# Marks a session whose transaction has a connection (Session.info): something of it
# reached the database, so its commit is a COMMIT.
_CONNECTED = "commit_writes.connected"
_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


@event.listens_for(Session, "after_begin")
def _note_connected(session: Session, _transaction: SessionTransaction, _connection: Any) -> None:
    session.info[_CONNECTED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_connected(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTED, None)


def reached_database(session: Session) -> bool:
    """Whether the session's transaction has a connection (a statement, a lock taken)."""
    return bool(session.info.get(_CONNECTED))


def _alone(session: Session, templates: tuple[Template, ...]) -> bool:
    """Whether the one statement is all the transaction writes: the session connects on its
    own (it joins no caller's connection and transaction), nothing of it has reached the
    database, no ORM change waits to be flushed (it would follow this hook), and no template
    may refuse the commit (a refusal is raised after the statement)."""
    if reached_database(session) or not isinstance(session.get_bind(), Engine):
        return False
    if session.new or session.dirty or session.deleted:
        return False
    return all(template.must_change is None for template in templates)


def _write_in_one(session: Session, writes: _Writes) -> None:
    """The writes in one statement. When they are the whole transaction, that statement
    runs on its own in autocommit: a statement is atomic, and BEGIN and COMMIT would be
    two more round trips (a customer create's writes are one statement in all)."""
    tables = tuple((table, len(rows)) for table, rows in writes.rows.items())
    templates = tuple(template for template, _ in writes.templates)
    params: dict[str, Any] = {}
    n = 0
    for table_rows in writes.rows.values():
        for row in table_rows:
            params.update({f"row{n}_{name}": value for name, value in row.items()})
            n += 1
    for _, values in writes.templates:
        params.update(values)
    counted = [t for t in templates if t.must_change is not None]
    statement = _combined((tables, templates))
    if _alone(session, templates):
        bind = session.get_bind()
        assert isinstance(bind, Engine)
        if runs_alone_on_driver(bind, statement):
            # On asyncpg itself: SQLAlchemy's execution of it was a seventh of a customer
            # create's CPU (issue 11; app/core/driver.py).
            changed = run_alone(bind, statement, params)
        else:
            connection = session.connection(execution_options=_AUTOCOMMIT)
            changed = connection.execute(statement, params).one()
    else:  # (the session's execute, which flushes the pending ORM changes first)
        changed = session.execute(statement, params).one()
    for value, template in zip(changed, counted, strict=False):
        if not value:
            raise CommitRefused(template.must_change or "")


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back transaction's pending rows go with it (also one that never reached
    the database: ``after_rollback`` would not fire for it)."""
    if not previous_transaction.nested:
        session.info.pop(PENDING, None)
