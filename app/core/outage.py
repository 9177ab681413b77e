"""When the database is away (issue 9 §7): tell an outage from a bug, and answer it.

An outage is a database that refuses connections, drops them (a restart, a failover), is
starting up or shutting down, has no connection left, or does not answer in time (a
network partition: the connect and statement timeouts of app/core/database.py end the
wait). The API answers it with a 503 ``database_unavailable`` and ``Retry-After``, never
a 500; a connection the outage touched is thrown away rather than pooled again, so the
service is back by itself on the first request after the database is.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Iterator

import asyncpg
from fastapi import FastAPI, Request
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from starlette.responses import JSONResponse

from app.core.errors import AppError, problem

logger = logging.getLogger("scms.database")

# SQLSTATE classes and codes that mean "the server is away", not "the request is wrong":
# 08 connection exception, 53 insufficient resources (too many connections), 57P01-57P03
# shutdown / crash / starting up, 57014 a statement cancelled by statement_timeout.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53")
_OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57014"})
# The same codes that also mean the connection itself is gone (throw it away).
_DISCONNECT_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# SQLite: the write lock was not free within the busy timeout, or the file is unreachable.
_SQLITE_OUTAGE_MESSAGES = ("database is locked", "unable to open database file")
# Socket errors: refused, reset, unreachable, timed out. Not the file-system OSErrors.
_SOCKET_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


class DatabaseUnavailable(AppError):
    status, code, title = 503, "database_unavailable", "The database is unavailable"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (``orig``, ``__cause__``, ``__context__``) and the lone
    member of an exception group, each once."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for inner in (
            getattr(current, "orig", None),
            current.__cause__,
            current.__context__,
        ):
            if isinstance(inner, BaseException):
                todo.append(inner)


def _sqlstate(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return code if isinstance(code, str) else None


def _socket_gone(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    if isinstance(exc, OSError):
        # asyncio's "Multiple exceptions: [Errno 111] …" (every address refused) has no errno.
        return exc.errno in _SOCKET_ERRNOS or str(exc).startswith("Multiple exceptions")
    return False


def connection_gone(exc: BaseException) -> bool:
    """This error leaves the connection unusable: discard it, do not pool it again."""
    for inner in _chain(exc):
        if isinstance(inner, sa_exc.DBAPIError) and inner.connection_invalidated:
            return True
        code = _sqlstate(inner)
        if code is not None and (code.startswith("08") or code in _DISCONNECT_SQLSTATES):
            return True
        if _socket_gone(inner) or "connection is closed" in str(inner):
            return True
    return False


def is_database_unavailable(exc: BaseException) -> bool:
    """The database is away or too slow to answer, as opposed to a bug or a bad request."""
    for inner in _chain(exc):
        if isinstance(inner, sa_exc.TimeoutError):  # no free pooled connection in time
            return True
        code = _sqlstate(inner)
        if code is not None and (
            code.startswith(_OUTAGE_SQLSTATE_CLASSES) or code in _OUTAGE_SQLSTATES
        ):
            return True
        if isinstance(inner, sa_exc.OperationalError) and any(
            m in str(inner.orig) for m in _SQLITE_OUTAGE_MESSAGES
        ):
            return True
    return connection_gone(exc)


def mark_disconnects(context: ExceptionContext) -> None:
    """SQLAlchemy ``handle_error`` hook: a timed-out or dropped connection is invalidated
    (with the rest of the pool, which the same outage most likely broke).

    The driver's own check misses a client-side timeout (asyncpg's ``command_timeout``
    raises a bare ``TimeoutError``): such a connection is mid-statement and must not be
    handed to the next request. This is what lets the service recover without
    ``pool_pre_ping``.
    """
    if not context.is_disconnect and connection_gone(context.original_exception):
        context.is_disconnect = True
    if context.is_disconnect and context.connection is not None:
        # SQLAlchemy closes an invalidated connection politely, waiting up to 2 s for a
        # server that, in a partition, never answers: cut it at once instead.
        with contextlib.suppress(Exception):
            driver = context.connection.connection.driver_connection
            terminate = getattr(driver, "terminate", None)
            if terminate is not None:
                terminate()


def retry_after_seconds(request: Request) -> int:
    settings = getattr(request.app.state, "settings", None)
    return int(getattr(settings, "db_retry_after_seconds", 5))


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """503 + Retry-After for an outage; anything else goes on to the 500 handler."""
    if not is_database_unavailable(exc):
        raise exc
    logger.warning(
        "database unavailable",
        extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc}"[:300]},
    )
    seconds = retry_after_seconds(request)
    return problem(
        request,
        status=DatabaseUnavailable.status,
        code=DatabaseUnavailable.code,
        title=DatabaseUnavailable.title,
        detail=f"The database is not answering; try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
        extra={"retry_after_seconds": seconds},
    )


# The exception types an outage surfaces as; the handler sorts them further.
DATABASE_ERROR_TYPES: tuple[type[Exception], ...] = (
    sa_exc.SQLAlchemyError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def install_outage_handler(app: FastAPI) -> None:
    """Issue 9 §7: the database away is a 503 with Retry-After, not a 500."""
    for kind in DATABASE_ERROR_TYPES:
        app.add_exception_handler(kind, database_error_handler)
