"""``scms contracts …``: jobs over contracts."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.cli.clock import command_clock
from app.core.clock import SystemClock
from app.core.database import Database, engine_from_settings
from app.core.settings import get_settings
from app.core.validation import BusinessWindow
from app.endings.rolling import RollResult, roll

contracts = typer.Typer(help="Jobs over contracts.", no_args_is_help=True)
console = Console()


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None  # today, from the command's clock
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD") from exc
    window = BusinessWindow.on(SystemClock().today())  # issue 9 §4
    if not window.first <= day <= window.last:
        raise typer.BadParameter(f"use a date from {window.first} to {window.last}")
    return day


@contracts.command("roll")
def roll_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD; default: today in Tokyo.")
    ] = None,
) -> None:
    """Record renewals and terminations whose dates have passed (idempotent, daily)."""
    day = _parse_day(as_of)

    async def main() -> tuple[date, RollResult]:
        settings = get_settings()
        database = Database(engine_from_settings(settings, pool_size=1))
        try:
            clock = await command_clock(database, settings)
            as_of_day = day or clock.today()
            return as_of_day, await roll(database, as_of_day, clock)
        finally:
            await database.dispose()

    day, result = asyncio.run(main())
    table = Table("as of", "active contracts", "renewals recorded", "terminations recorded")
    table.add_row(str(day), str(result.contracts), str(result.renewed), str(result.terminated))
    console.print(table)
