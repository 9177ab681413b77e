"""``scms audit …``: the operation log for operators (issue 13 §3, Art. 32.3)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from app.audit import log
from app.audit_events.service import ndjson
from app.core.clock import TOKYO, SystemClock
from app.core.database import Database, engine_from_settings
from app.core.settings import get_settings

audit = typer.Typer(help="Export, purge and verify the operation log.", no_args_is_help=True)
console = Console(stderr=True)
T = TypeVar("T")


def _instant(value: str | None, name: str) -> datetime | None:
    """A date (midnight in Tokyo) or an RFC 3339 instant with its offset."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD or an RFC 3339 instant", param_hint=name) from exc
    if len(value) == 10:
        return parsed.replace(tzinfo=TOKYO)
    if parsed.tzinfo is None:
        raise typer.BadParameter("give the instant's offset, e.g. +09:00", param_hint=name)
    return parsed


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        database = Database(engine_from_settings(get_settings(), pool_size=1))
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


@audit.command("export")
def export_command(
    since: Annotated[str | None, typer.Option(help="YYYY-MM-DD (Tokyo) or RFC 3339.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this; as --since.")] = None,
    output: Annotated[
        Path | None, typer.Option(help="File to write; default: standard output.")
    ] = None,
) -> None:
    """Write the entries of the window as NDJSON, oldest first, in constant memory."""
    filters = log.Filters(since=_instant(since, "--since"), until=_instant(until, "--until"))

    async def work(database: Database) -> None:
        sink = output.open("wb") if output else sys.stdout.buffer
        try:
            async for chunk in ndjson(database, filters):
                sink.write(chunk)
        finally:
            if output:
                sink.close()
            else:
                sink.flush()

    _run(work)


@audit.command("purge")
def purge_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
) -> None:
    """Delete the entries older than SCMS_AUDIT_RETENTION_DAYS days (the worker runs
    this daily); export them first if the customer has not (Art. 32.3)."""
    days = get_settings().audit_retention_days
    clock = SystemClock()
    before = log.cutoff(clock, days).isoformat(timespec="seconds")
    if dry_run:
        count = _run(lambda db: log.count_expired(db, clock=clock, retention_days=days))
        typer.echo(f"{count} entries recorded before {before} would be purged ({days} days).")
        return
    count = _run(lambda db: log.purge_expired(db, clock=clock, retention_days=days))
    typer.echo(f"{count} entries recorded before {before} purged ({days} days).")


@audit.command("verify")
def verify_command() -> None:
    """Check the hash chain from the first kept entry to the newest: exit 1 if broken."""
    result = _run(log.verify)
    if result.ok:
        typer.echo(
            f"The operation log is intact: {result.checked} entries"
            + (f" (seq {result.first_seq} to {result.last_seq})." if result.checked else ".")
        )
        return
    typer.echo(
        f"The operation log is broken at seq {result.broken_at}: {result.problem} "
        f"({result.checked} entries checked before it).",
        err=True,
    )
    raise typer.Exit(1)
