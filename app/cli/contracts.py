"""``scms contracts …``: jobs over contracts."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.core.clock import SystemClock
from app.core.database import Database, engine_from_settings
from app.core.settings import get_settings
from app.core.validation import BusinessWindow
from app.endings.rolling import RollResult, roll

contracts = typer.Typer(help="Jobs over contracts.", no_args_is_help=True)
console = Console()


def _parse_day(value: str | None) -> date:
    if value is None:
        return SystemClock().today()
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

    async def main() -> RollResult:
        database = Database(engine_from_settings(get_settings(), pool_size=1))
        try:
            return await roll(database, day, SystemClock())
        finally:
            await database.dispose()

    result = asyncio.run(main())
    table = Table("as of", "active contracts", "renewals recorded", "terminations recorded")
    table.add_row(str(day), str(result.contracts), str(result.renewed), str(result.terminated))
    console.print(table)
