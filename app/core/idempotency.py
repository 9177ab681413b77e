"""Idempotency-Key on every POST, PATCH and DELETE (issue 12 §1, API.md conventions).

A client that may retry sends ``Idempotency-Key: <up to 255 characters>``. The key is
scoped to the API key and kept in the database (``idempotency_keys``, so any replica
answers) for ``SCMS_IDEMPOTENCY_TTL_HOURS``. One pure-ASGI middleware, inside the request
guard (the caller is known, the body was checked), does this:

1. **Begin**, in its own short transaction, on the key's row (row-locked on PostgreSQL,
   the write lock on SQLite): no row (or an expired one) → a ``processing`` row with a
   token, committed, and the request goes on (a new key on PostgreSQL: one autocommitted
   INSERT, no transaction round trips). A row for a different request (method,
   path with query, canonical hash of the JSON body) → 422 ``idempotency_key_reused``.
   A ``completed`` row → its response again. A ``processing`` row → 409
   ``idempotency_key_in_use`` with ``Retry-After``, unless its lease (``PROCESSING_LEASE``)
   ran out: then the first attempt died without committing, and this one takes over.
2. **Run** the route. Its request session (app/core/database.py) is not committed when
   the route returns but handed to this middleware.
3. **Settle**, once the response is complete and before a byte of it is sent: the
   response (status, headers, body) is written to the key's row *in the route's own
   session*, and that one commit holds both the change and its stored answer: a crash
   leaves both or neither. The write is conditional on the token, so an attempt whose
   lease was taken over rolls back instead of committing a second time.

Which answers are stored: every answer below 500, as Stripe does: a 4xx is what the
request produced (its change rolled back), and replaying it is the truth. A 5xx, or an
exception, is not an answer about the request but about the service: the change is
rolled back, the key released, and a retry runs the request again (docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text, delete, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.clock import Clock
from app.core.database import COMMIT_WITH_RESPONSE, Database
from app.core.errors import AppError, Conflict, Unprocessable, internal_error_response
from app.core.ids import new_id
from app.core.models import Base, IdColumn, Timestamp
from app.core.outage import database_error_handler, is_database_unavailable

logger = logging.getLogger("scms.idempotency")

HEADER = b"idempotency-key"
REPLAYED_HEADER = b"idempotent-replayed"
METHODS = frozenset({"POST", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
# How long a first attempt may run before a retry takes the key over (a request is
# bounded by the statement timeout many times over long before this).
PROCESSING_LEASE = timedelta(seconds=60)
PROCESSING, COMPLETED = "processing", "completed"
# Recomputed on replay, or the replay's own.
_NOT_STORED = frozenset({b"content-length", b"date", b"server", b"x-request-id"})


class IdempotencyKey(Base):
    """A key a client sent, the request it came with, and the answer once there is one."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    api_key_id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    token: Mapped[str] = mapped_column(IdColumn, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSON, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class KeyReused(Unprocessable):
    code, title = "idempotency_key_reused", "The Idempotency-Key was used for another request"


class KeyInUse(Conflict):
    code, title = "idempotency_key_in_use", "The first request with this key is still running"


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
class _Request:
    api_key_id: str
    key: str
    fingerprint: str
    method: str
    path: str


@dataclass(frozen=True, slots=True)
class Stored:
    status: int
    headers: list[list[str]]
    body: bytes


async def begin(
    database: Database, request: _Request, *, now: datetime, ttl: timedelta
) -> str | Stored:
    """The token of a new attempt, or the stored answer; raises 422 reused / 409 in use."""
    for _ in range(3):
        token = new_id("idem")
        if await _claim_new(database, _processing(request, token, now, ttl)):
            return token
        try:
            async with database.sessionmaker() as session, session.begin():
                if await _insert_new(session, _processing(request, token, now, ttl)):
                    return token
                row = await session.get(
                    IdempotencyKey,
                    (request.api_key_id, request.key),
                    with_for_update=True,
                    populate_existing=True,
                )
                if row is None:
                    continue  # purged meanwhile: insert again
                return await _decide(session, row, request, token, now, ttl)
        except IntegrityError:
            continue  # another attempt inserted the row first: look again
    raise KeyInUse(
        "Another request with this Idempotency-Key is starting; retry in a second.",
        headers={"Retry-After": "1"},
    )


def _values(row: IdempotencyKey) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in IdempotencyKey.__table__.columns}


async def _claim_new(database: Database, row: IdempotencyKey) -> bool:
    """PostgreSQL, a new key (the usual path): its row in one autocommitted statement, one
    round trip instead of four (BEGIN, the setting, the INSERT, COMMIT: measured, they
    were most of what a key cost a request). False when the row exists, or on SQLite,
    whose transaction below is no round trip: :func:`begin` then looks at the row."""
    if database.engine.dialect.name != "postgresql":
        return False
    async with database.autocommit() as connection:
        result = await connection.execute(
            postgresql_insert(IdempotencyKey).values(**_values(row)).on_conflict_do_nothing()
        )
    return bool(getattr(result, "rowcount", 0))


async def _insert_new(session: AsyncSession, row: IdempotencyKey) -> bool:
    """Insert the key's row unless it exists; True when this attempt made it.

    One statement on the usual path (a new key). On PostgreSQL the transaction commits
    without waiting for its WAL to reach the disk (``synchronous_commit = off``): safe,
    since the answer's own commit, which waits, flushes the WAL up to and past it, and a
    row lost in a crash before that commit held nothing (a retry starts afresh). It saves
    the second disk flush a keyed request would otherwise pay.
    """
    bind = session.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        await session.execute(text("SET LOCAL synchronous_commit = off"))
    insert = postgresql_insert if postgres else sqlite_insert
    result = await session.execute(
        insert(IdempotencyKey).values(**_values(row)).on_conflict_do_nothing()
    )
    return bool(getattr(result, "rowcount", 0))


def _processing(request: _Request, token: str, now: datetime, ttl: timedelta) -> IdempotencyKey:
    return IdempotencyKey(
        api_key_id=request.api_key_id,
        key=request.key,
        fingerprint=request.fingerprint,
        method=request.method,
        path=request.path,
        state=PROCESSING,
        token=token,
        locked_until=now + PROCESSING_LEASE,
        created_at=now,
        expires_at=now + ttl,
    )


async def _decide(
    session: AsyncSession,
    row: IdempotencyKey,
    request: _Request,
    token: str,
    now: datetime,
    ttl: timedelta,
) -> str | Stored:
    if row.expires_at <= now:  # older than the TTL: the key is free again
        fresh = _processing(request, token, now, ttl)
        for name in ("fingerprint", "method", "path", "state", "token", "locked_until"):
            setattr(row, name, getattr(fresh, name))
        row.created_at, row.expires_at = now, now + ttl
        row.response_status = row.response_headers = row.response_body = None
        await session.flush()
        return token
    if row.fingerprint != request.fingerprint:
        raise KeyReused(
            f"Idempotency-Key {request.key!r} was first sent with {row.method} {row.path} "
            "and another body; use a new key for a new request.",
            first_method=row.method,
            first_path=row.path,
        )
    if row.state == COMPLETED:
        assert row.response_status is not None
        return Stored(row.response_status, row.response_headers or [], row.response_body or b"")
    if row.locked_until is not None and row.locked_until > now:
        wait = max(1, math.ceil((row.locked_until - now).total_seconds()))
        raise KeyInUse(
            "The first request with this Idempotency-Key is still being processed; retry "
            "after Retry-After seconds to get its answer.",
            headers={"Retry-After": str(min(wait, 5))},
        )
    # The first attempt's lease ran out without an answer: it died, and since its
    # change commits only with its answer, it changed nothing. Take the key over.
    row.token = token
    row.locked_until = now + PROCESSING_LEASE
    await session.flush()
    return token


async def store(session: AsyncSession, request: _Request, token: str, answer: Stored) -> bool:
    """Write the answer in ``session`` (the route's transaction); False: lease lost."""
    result = await session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.api_key_id == request.api_key_id,
            IdempotencyKey.key == request.key,
            IdempotencyKey.token == token,
        )
        .values(
            state=COMPLETED,
            locked_until=None,
            response_status=answer.status,
            response_headers=answer.headers,
            response_body=answer.body,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def release(database: Database, request: _Request, token: str) -> None:
    """Forget an attempt that produced no answer to keep (a 5xx): a retry runs again."""
    try:
        async with database.sessionmaker() as session, session.begin():
            await session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.api_key_id == request.api_key_id,
                    IdempotencyKey.key == request.key,
                    IdempotencyKey.token == token,
                )
            )
    except Exception as exc:  # its lease runs out by itself
        logger.warning("idempotency key not released", extra={"error": str(exc)[:200]})


async def purge_expired(database: Database, now: datetime) -> int:
    """Delete keys past their TTL (the worker's purge); how many went."""
    async with database.sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now)
        )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class _Attempt:
    """The route's session, handed over by get_session, and the answer as it comes."""

    session: AsyncSession | None = None
    start: Message | None = None
    chunks: list[bytes] = field(default_factory=list)
    settled: bool = False

    def hand_over(self, session: AsyncSession) -> None:
        self.session = session


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER) if scope["type"] == "http" else None
        api_key_id = scope.get("state", {}).get("api_key_id")
        if key is None or scope["method"] not in METHODS or api_key_id is None:
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        database: Database = app.state.database
        clock: Clock = app.state.clock
        ttl = timedelta(hours=app.state.settings.idempotency_ttl_hours)
        try:
            _check_key(key)
            body, rest = await _read_body(receive)
            request = _Request(
                api_key_id,
                key,
                fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body),
                scope["method"],
                scope["path"],
            )
            begun = await begin(database, request, now=clock.now(), ttl=ttl)
        except Exception as exc:
            await _answer_error(scope, receive, send, exc)
            return
        if isinstance(begun, Stored):
            await _send_stored(send, begun)
            return
        await self._attempt(scope, _replaying(body, rest, receive), send, request, begun)

    async def _attempt(
        self, scope: Scope, receive: Receive, send: Send, request: _Request, token: str
    ) -> None:
        database: Database = scope["app"].state.database
        attempt = _Attempt()
        scope["state"][COMMIT_WITH_RESPONSE] = attempt.hand_over

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                attempt.start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            attempt.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._settle(scope, receive, send, request, token, attempt)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await self._abandon(database, request, token, attempt)
            raise
        # No complete answer was sent (the client went away): nothing is kept.
        await self._abandon(database, request, token, attempt)

    async def _abandon(
        self, database: Database, request: _Request, token: str, attempt: _Attempt
    ) -> None:
        """Roll back and release an attempt that produced no answer (once settled, the
        kept answer stands whatever happens after it was sent)."""
        if attempt.session is not None:
            session, attempt.session = attempt.session, None
            await _discard(session)
        if not attempt.settled:
            attempt.settled = True
            await release(database, request, token)

    async def _settle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: _Request,
        token: str,
        attempt: _Attempt,
    ) -> None:
        assert attempt.start is not None
        attempt.settled = True
        database: Database = scope["app"].state.database
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
        session, attempt.session = attempt.session, None
        if status >= 500:
            if session is not None:
                await _discard(session)
            await release(database, request, token)
            await _send_stored(send, answer, replayed=False)
            return
        try:
            if session is None:  # an error answer, or a route without a session
                async with database.sessionmaker() as own, own.begin():
                    stored = await store(own, request, token, answer)
            else:
                stored = await store(session, request, token, answer)
                if stored:
                    await session.commit()
                else:
                    await session.rollback()
        except Exception as exc:
            if session is not None:
                await _discard(session)
            await release(database, request, token)
            await _answer_error(scope, receive, send, exc)
            return
        finally:
            if session is not None:
                await session.close()
        if not stored:
            await _answer_error(
                scope,
                receive,
                send,
                KeyInUse(
                    "A retry took this Idempotency-Key over while this request ran; "
                    "retry to get the answer that was kept.",
                    headers={"Retry-After": "1"},
                ),
            )
            return
        await _send_stored(send, answer, replayed=False)


async def _discard(session: AsyncSession) -> None:
    try:
        await session.rollback()
    finally:
        await session.close()


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
