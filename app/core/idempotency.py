"""Idempotency-Key on every POST, PATCH and DELETE (issue 12 §1, API.md conventions).

A client that may retry sends ``Idempotency-Key: <up to 255 characters>``. The key is
scoped to the API key and kept in the database (``idempotency_keys``, so any replica
answers) for ``SCMS_IDEMPOTENCY_TTL_HOURS``. One pure-ASGI middleware, inside the request
guard (the caller is known, the body was checked), runs the request in a unit of work it
owns (app/core/database.py, ``UNIT_OF_WORK``) and writes nothing but the answer:

1. **Look**, with one statement, before the route runs. On PostgreSQL it opens the
   route's own transaction and takes the key's transaction-scoped advisory lock without
   waiting (``pg_try_advisory_xact_lock``): this attempt holds it until its commit or
   rollback, and an attempt that cannot take it is told 409 ``idempotency_key_in_use``
   with ``Retry-After``. On SQLite it reads outside any transaction, without the write
   lock that routes with transactions of their own need; there the attempts of one process are told
   409 from memory, and one of another process waits for SQLite's one writer and then
   finds the answer kept (below). A kept answer for the same request (method, path with
   query, canonical hash of the JSON body) → that answer again, ``Idempotent-Replayed:
   true``; for another request → 422 ``idempotency_key_reused``.
2. **Run** the route. Its request session is not committed when the route returns.
3. **Keep**, once the answer is complete and before a byte of it is sent: the answer
   (status, headers, body) is inserted by the commit of the route's own transaction
   (with its events and log entries, in one statement on PostgreSQL:
   app/core/commit_writes.py), which holds both the change and its answer: a crash
   leaves both or neither, and a killed attempt leaves nothing behind for a retry to wait
   for. Should another attempt have kept an answer since this one looked, the INSERT
   finds it and the commit is refused: this attempt rolls back its change and answers
   what was kept.

So a key costs a request one round trip, the look (issue 12 §6 bounds the cost of the
key and the outbox at 15 %).

Which answers are kept: every answer below 500, as Stripe does: a 4xx is what the
request produced (its change rolled back), and replaying it is the truth. A 5xx, or an
exception, is not an answer about the request but about the service: the change is
rolled back, nothing is kept, and a retry runs the request again (docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.clock import Clock
from app.core.commit_writes import CommitRefused, Template, execute_at_commit
from app.core.database import UNIT_OF_WORK, Database
from app.core.errors import AppError, Conflict, Unprocessable, internal_error_response
from app.core.models import Base, IdColumn, Timestamp
from app.core.outage import database_error_handler, is_database_unavailable

logger = logging.getLogger("scms.idempotency")

HEADER = b"idempotency-key"
REPLAYED_HEADER = b"idempotent-replayed"
METHODS = frozenset({"POST", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# The first of the two int4 halves of the keys' advisory locks: a lock space of their own,
# apart from the single-bigint locks of acceptance and migrations.
LOCK_SPACE = int.from_bytes(b"idem", "big", signed=True)
# Recomputed on replay, or the replay's own.
_NOT_STORED = frozenset({b"content-length", b"date", b"server", b"x-request-id"})


class IdempotencyKey(Base):
    """A key a client sent, the request it came with, and the answer kept for it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    api_key_id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    response_status: Mapped[int] = mapped_column(Integer, nullable=False)
    response_headers: Mapped[list[list[str]]] = mapped_column(JSON, nullable=False)
    response_body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


_KEYS = cast(Table, IdempotencyKey.__table__)
# What the look reads of a kept answer.
_KEPT = (
    _KEYS.c.fingerprint,
    _KEYS.c.method,
    _KEYS.c.path,
    _KEYS.c.response_status,
    _KEYS.c.response_headers,
    _KEYS.c.response_body,
    _KEYS.c.expires_at,
)


class KeyReused(Unprocessable):
    code, title = "idempotency_key_reused", "The Idempotency-Key was used for another request"


class KeyInUse(Conflict):
    code, title = "idempotency_key_in_use", "The first request with this key is still running"


def _in_use() -> KeyInUse:
    return KeyInUse(
        "The first request with this Idempotency-Key is still being processed; retry "
        "after Retry-After seconds to get its answer.",
        headers={"Retry-After": "1"},
    )


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """SHA-256 of the method, the path with its query and the body, JSON canonicalised
    (key order and white space do not make a different request)."""
    try:
        document = json.loads(body) if body else None
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    api_key_id: str
    key: str
    fingerprint: str
    method: str
    path: str

    @property
    def identity(self) -> tuple[str, str]:
        return (self.api_key_id, self.key)

    @property
    def lock(self) -> int:
        """The key's advisory lock (an int4; the other half is :data:`LOCK_SPACE`)."""
        digest = hashlib.sha256(f"{self.api_key_id}\x00{self.key}".encode()).digest()
        return int.from_bytes(digest[:4], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Stored:
    status: int
    headers: list[list[str]]
    body: bytes


def _answer_for(request: KeyedRequest, row: Any, now: datetime) -> Stored | None:
    """The kept answer ``row`` gives ``request`` (None: no row, or one past its TTL);
    raises 422 when the key was first sent with another request."""
    if row is None or row.fingerprint is None or row.expires_at <= now:
        return None
    if row.fingerprint != request.fingerprint:
        raise KeyReused(
            f"Idempotency-Key {request.key!r} was first sent with {row.method} {row.path} "
            "and another body; use a new key for a new request.",
            first_method=row.method,
            first_path=row.path,
        )
    return Stored(row.response_status, row.response_headers, row.response_body)


# The statements, built once: a keyed request pays for its two round trips, not for
# building them (the upsert's ``excluded`` alias alone cost about 0.5 ms a request).
_THIS_KEY = and_(_KEYS.c.api_key_id == bindparam("api_key_id"), _KEYS.c.key == bindparam("key"))
_LOOK = select(*_KEPT).where(_THIS_KEY)
# PostgreSQL: the key's lock, taken without waiting, and its kept answer if any, in one row.
_LOOK_AND_LOCK = select(
    func.pg_try_advisory_xact_lock(LOCK_SPACE, bindparam("lock", type_=Integer)).label("held"),
    *_KEPT,
).select_from(select(literal(1).label("one")).subquery().outerjoin(_KEYS, _THIS_KEY))
_ANSWER = (
    "fingerprint",
    "method",
    "path",
    "response_status",
    "response_headers",
    "response_body",
    "created_at",
    "expires_at",
)


def _key_of(request: KeyedRequest) -> dict[str, Any]:
    return {"api_key_id": request.api_key_id, "key": request.key}


async def look(
    connection: AsyncConnection, request: KeyedRequest, *, now: datetime
) -> Stored | None:
    """The answer kept for ``request``, or None: this attempt runs it. On PostgreSQL the
    key's advisory lock is taken in ``connection``'s transaction (the route's), in the
    same statement; raises 409 when another attempt holds it, 422 for a key used for
    another request."""
    if connection.dialect.name != "postgresql":
        found = (await connection.execute(_LOOK, _key_of(request))).first()
        return _answer_for(request, found, now)
    row = (
        await connection.execute(_LOOK_AND_LOCK, {**_key_of(request), "lock": request.lock})
    ).one()
    kept = _answer_for(request, row, now)
    if kept is None and not row.held:
        raise _in_use()
    return kept


def _keep(insert: Any) -> Template:
    """INSERT the answer; over a row past its TTL only (the WHERE), else nothing, and the
    commit is refused."""
    statement = insert(_KEYS).values(
        {c.key: bindparam(f"keep_{c.key}", type_=c.type) for c in _KEYS.c}
    )
    excluded = statement.excluded
    return Template(
        statement.on_conflict_do_update(
            index_elements=[_KEYS.c.api_key_id, _KEYS.c.key],
            set_={name: excluded[name] for name in _ANSWER},
            where=_KEYS.c.expires_at <= bindparam("keep_now", type_=_KEYS.c.expires_at.type),
        ),
        must_change="an answer is kept for this key already",
    )


_KEEP = {"postgresql": _keep(postgresql_insert), "sqlite": _keep(sqlite_insert)}


def store(
    session: AsyncSession, request: KeyedRequest, answer: Stored, *, now: datetime, ttl: timedelta
) -> None:
    """Keep ``answer`` with ``session``'s commit (app/core/commit_writes.py): written in
    the same statement as the change's events and log entries on PostgreSQL, no round
    trip of its own. A kept row past its TTL is replaced; a live one (another attempt's,
    kept since this one looked) makes the commit raise :class:`CommitRefused`."""
    values = {
        "api_key_id": request.api_key_id,
        "key": request.key,
        "fingerprint": request.fingerprint,
        "method": request.method,
        "path": request.path,
        "response_status": answer.status,
        "response_headers": answer.headers,
        "response_body": answer.body,
        "created_at": now,
        "expires_at": now + ttl,
    }
    execute_at_commit(
        session,
        _KEEP[session.get_bind().dialect.name],
        {**{f"keep_{name}": value for name, value in values.items()}, "keep_now": now},
    )


async def kept_answer(database: Database, request: KeyedRequest, *, now: datetime) -> Stored:
    """The answer another attempt kept (this one lost the race to keep its own)."""
    async with database.read_sessionmaker() as session:
        row = (await session.execute(_LOOK, _key_of(request))).first()
    kept = _answer_for(request, row, now)
    if kept is None:  # purged between the two statements: as good as still running
        raise _in_use()
    return kept


async def purge_expired(database: Database, now: datetime) -> int:
    """Delete keys past their TTL (the worker's purge); how many went."""
    async with database.sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now)
        )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class _Attempt:
    """The unit of work of one keyed request (app/core/database.py's OwnedUnitOfWork):
    the session the look began or the route asked for, and the answer as it comes."""

    maker: async_sessionmaker[AsyncSession]
    own: AsyncSession | None = None
    start: Message | None = None
    chunks: list[bytes] = field(default_factory=list)

    def session(self, maker: async_sessionmaker[AsyncSession] | None = None) -> AsyncSession:
        if self.own is None:
            self.own = (maker or self.maker)()
        return self.own

    async def close(self) -> None:
        """Roll back whatever was not committed and give the connection back."""
        if self.own is not None:
            session, self.own = self.own, None
            try:
                await session.rollback()
            finally:
                await session.close()


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise Unprocessable(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            code="invalid_idempotency_key",
            errors=[
                {
                    "field": "Idempotency-Key",
                    "in": "header",
                    "message": f"1 to {MAX_KEY_LENGTH} printable ASCII characters",
                    "type": "invalid_idempotency_key",
                }
            ],
        )


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replaying(body: bytes, rest: list[Message], receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *rest]

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The keys this process is running: a second attempt is told 409 without a query
        # (on SQLite, where no lock tells, the only way it is told).
        self.running: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER) if scope["type"] == "http" else None
        api_key_id = scope.get("state", {}).get("api_key_id")
        if key is None or scope["method"] not in METHODS or api_key_id is None:
            await self.app(scope, receive, send)
            return
        try:
            _check_key(key)
            body, rest = await _read_body(receive)
            request = KeyedRequest(
                api_key_id,
                key,
                fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body),
                scope["method"],
                scope["path"],
            )
            if request.identity in self.running:
                raise _in_use()
        except Exception as exc:
            await _answer_error(scope, receive, send, exc)
            return
        self.running.add(request.identity)
        try:
            await self._attempt(scope, _replaying(body, rest, receive), send, request)
        finally:
            self.running.discard(request.identity)

    async def _attempt(
        self, scope: Scope, receive: Receive, send: Send, request: KeyedRequest
    ) -> None:
        state = scope["app"].state
        database: Database = state.database
        clock: Clock = state.clock
        attempt = _Attempt(database.sessionmaker)
        try:
            try:
                # PostgreSQL: the look begins the route's transaction (the key's lock is
                # held in it); SQLite: it reads on a connection of its own.
                if database.engine.dialect.name == "postgresql":
                    kept = await look(
                        await attempt.session().connection(), request, now=clock.now()
                    )
                else:  # one statement, no transaction (no BEGIN, no write lock)
                    async with database.autocommit() as connection:
                        kept = await look(connection, request, now=clock.now())
            except Exception as exc:
                await _answer_error(scope, receive, send, exc)
                return
            if kept is not None:
                await _send_stored(send, kept)
                return
            scope["state"][UNIT_OF_WORK] = attempt

            async def capture(message: Message) -> None:
                if message["type"] == "http.response.start":
                    attempt.start = message
                    return
                if message["type"] != "http.response.body":
                    await send(message)
                    return
                attempt.chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._settle(scope, receive, send, request, attempt)

            await self.app(scope, receive, capture)
            # No complete answer (the client went away): the rollback below keeps nothing.
        finally:
            await attempt.close()

    async def _settle(
        self, scope: Scope, receive: Receive, send: Send, request: KeyedRequest, attempt: _Attempt
    ) -> None:
        assert attempt.start is not None
        state = scope["app"].state
        database: Database = state.database
        status = int(attempt.start["status"])
        answer = Stored(
            status,
            [
                [name.decode("latin-1"), value.decode("latin-1")]
                for name, value in attempt.start.get("headers", [])
                if name.lower() not in _NOT_STORED
            ],
            b"".join(attempt.chunks),
        )
        if status >= 500:
            await attempt.close()
            await _send_stored(send, answer, replayed=False)
            return
        # A route that failed was rolled back (its error is kept in a transaction of its
        # own, on the same session); one that got through commits with its answer.
        session = attempt.session()
        now = state.clock.now()
        ttl = timedelta(hours=state.settings.idempotency_ttl_hours)
        replayed = False
        try:
            store(session, request, answer, now=now, ttl=ttl)
            try:
                await session.commit()
            except CommitRefused:
                await attempt.close()
                answer, replayed = await kept_answer(database, request, now=now), True
        except Exception as exc:
            await attempt.close()
            await _answer_error(scope, receive, send, exc)
            return
        await _send_stored(send, answer, replayed=replayed)


async def _send_stored(send: Send, answer: Stored, *, replayed: bool = True) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in answer.headers]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    if replayed:
        headers.append((REPLAYED_HEADER, b"true"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})


async def _answer_error(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """Render ``exc`` as the application renders it: problem+json, a 503 for an outage."""
    request = Request(scope)
    handlers: dict[Any, Any] = getattr(scope.get("app"), "exception_handlers", {})
    handler = next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)
    if is_database_unavailable(exc):
        response = await database_error_handler(request, exc)
    elif isinstance(exc, AppError) and handler is not None:
        response = await handler(request, exc)
    else:
        logger.error("idempotent request could not be settled", exc_info=exc)
        request_id = scope.get("state", {}).get("request_id", "")
        response = internal_error_response(scope["path"], request_id)
    await response(scope, receive, send)
