"""The CLI when the database is away (issue 9 §7): one line saying so, never a traceback."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.engine import make_url
from typer.core import TyperGroup

from app.core.outage import is_database_unavailable
from app.core.settings import get_settings


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


class OutageAwareGroup(TyperGroup):
    """The ``scms`` command group: an outage in any sub-command exits 1 with one line."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not is_database_unavailable(exc):  # usage errors and Exit are not outages
                raise
            typer.echo(unreachable_message(exc), err=True)
            raise typer.Exit(1) from None
