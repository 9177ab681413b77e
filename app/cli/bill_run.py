"""``scms bill-run``: invoice a month from the command line, with a progress bar."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from app.cli.clock import command_clock
from app.core.clock import SystemClock
from app.core.database import Database, engine_from_settings
from app.core.errors import AppError
from app.core.settings import get_settings
from app.core.validation import BusinessWindow
from app.invoices.billing_runs import bill_month
from app.invoices.billing_schemas import is_late
from app.invoices.models import BillingRun
from app.pricing.calendar import Month
from app.pricing.errors import PricingError

console = Console()


def _month(text: str) -> Month:
    try:
        month = Month.parse(text)
    except PricingError as exc:
        raise typer.BadParameter(f"{text!r} is not a month (YYYY-MM).") from exc
    # issue 9 §4: not before the business window; a later month has not ended, which
    # the run itself says more usefully.
    window = BusinessWindow.on(SystemClock().today())
    if str(month) < window.first_month:
        raise typer.BadParameter(
            f"{text} is before the business window: use a month from {window.first_month} "
            f"to {window.last_month}."
        )
    return month


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD).") from exc


def bill_run(
    month: Annotated[str, typer.Option(help="The month to invoice, YYYY-MM (must have ended).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute and count, store no invoice.")
    ] = False,
    issued_on: Annotated[
        str | None,
        typer.Option(
            "--issued-on",
            help="Issue date of the invoices, YYYY-MM-DD, between the month's scheduled "
            "issue day and today (default: the scheduled day when on time, else today).",
        ),
    ] = None,
) -> None:
    """Invoice a month: one invoice per contract, safe to re-run or run in parallel."""
    billing_month = _month(month)
    issue_date = _day(issued_on)
    settings = get_settings()
    progress = Progress(
        TextColumn("[bold]Billing {task.fields[month]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("contracts"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task("bill-run", total=None, month=str(billing_month))

    def advance(done: int, total: int) -> None:
        progress.start()  # from the first count on: no bar when the database fails first
        progress.update(task, completed=done, total=total)

    async def main() -> BillingRun:
        database = Database(engine_from_settings(settings, pool_size=2))
        try:
            return await bill_month(
                database,
                billing_month,
                dry_run=dry_run,
                settings=settings,
                clock=await command_clock(database, settings),
                created_by="cli",
                progress=advance,
                issued_on=issue_date,
            )
        finally:
            await database.dispose()

    started = time.perf_counter()
    try:
        run = asyncio.run(main())
    except AppError as exc:
        progress.stop()
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    finally:
        progress.stop()
    elapsed = time.perf_counter() - started
    if is_late(run):
        console.print(
            f"[yellow]Late run: {run.month}'s scheduled issue day was "
            f"{run.scheduled_issue_on}; invoices dated {run.issued_on}.[/yellow]"
        )
    else:
        console.print(f"Invoices dated {run.issued_on} (the scheduled issue day).")
    # The run id is copied into `GET /v1/billing-runs/{id}`: on a line of its own, so no
    # table squeezes it short.
    console.print(f"Run {run.id}", soft_wrap=True)
    table = Table("month", "status", "created", "existing", "failed", "duration")
    table.add_row(
        run.month + (" (dry run)" if run.dry_run else ""),
        run.status,
        str(run.invoices_created),
        str(run.invoices_existing),
        str(run.failed),
        f"{elapsed:.1f} s",
    )
    console.print(table)
    if run.status != "finished":
        console.print(f"[red]The run failed: {run.error}. Run it again to resume.[/red]")
        raise typer.Exit(1)
