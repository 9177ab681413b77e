"""``scms worker``: run the background work until SIGTERM (issue 12 §5)."""

from __future__ import annotations

import asyncio
import signal

from rich.console import Console

from app.core.clock import SystemClock
from app.core.database import Database, engine_from_settings
from app.core.logging import configure_logging
from app.core.settings import get_settings
from app.worker.runner import Worker

console = Console(stderr=True, highlight=False)


def worker() -> None:
    """Carry out the background work: bill runs asked for over the API, the daily roll
    (renewals, terminations, overdue invoices) and the purges, sharing it with every
    other worker on the database. SIGTERM or Ctrl-C finishes or releases the job in hand
    and exits."""
    settings = get_settings()
    configure_logging(settings.log_level)

    async def main() -> None:
        database = Database(engine_from_settings(settings))
        runner = Worker(database, settings, SystemClock())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, runner.stop)
        console.print(f"worker {runner.name} started (SIGTERM stops it)")
        try:
            await runner.run()
        finally:
            await database.dispose()
        console.print(f"worker {runner.name} stopped")

    asyncio.run(main())
