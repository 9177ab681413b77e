"""An operator's mistake is one line saying what to do, never a traceback (issue 9 §7, §8).

Every ``scms`` command runs inside :class:`OperatorErrors`, which turns the errors an
operator meets (a database that is unreachable, does not exist, or that no migration has
made yet) into one line on stderr and exit code 1. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from app.core.outage import is_database_unavailable
from app.core.settings import get_settings

_MISSING_DATABASE = {"3D000"}  # PostgreSQL invalid_catalog_name
_NOT_MIGRATED = {"42P01", "42703"}  # undefined_table, undefined_column
_SQLITE_NOT_MIGRATED = ("no such table", "no such column")
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _where() -> str:
    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database}"
    return f"database {url.database!r} on {url.host or 'localhost'}:{url.port or 5432}"


def unreachable_message(exc: BaseException) -> str:
    try:
        where = make_url(get_settings().database_url).render_as_string(hide_password=True)
    except Exception:  # a broken URL is its own error, reported elsewhere
        where = "SCMS_DATABASE_URL"
    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    return (
        f"scms: the database at {where} is unreachable ({reason}); "
        "check SCMS_DATABASE_URL and that the database is running, then try again."
    )


def operator_message(exc: BaseException) -> str | None:
    """The one line that tells the operator what to run, or None for a bug."""
    if is_database_unavailable(exc):
        return unreachable_message(exc)
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None)
    text = str(exc.orig).lower()
    if sqlstate in _MISSING_DATABASE:
        return (
            f"There is no {_where()} (SCMS_DATABASE_URL): create it (createdb), "
            "then run `scms migrate`."
        )
    if sqlstate in _NOT_MIGRATED or text.startswith(_SQLITE_NOT_MIGRATED):
        return (
            f"The schema of {_where()} is missing or behind ({exc.orig}): run `scms migrate` first."
        )
    return None


class OperatorErrors(TyperGroup):
    """The ``scms`` command group: one line and exit 1 for an operator's mistake."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # usage errors and typer.Exit pass through untouched
            message = operator_message(exc)
            if message is None:
                raise
            stderr.print(f"[red]{message}[/red]")
            raise typer.Exit(1) from None
