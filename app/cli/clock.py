"""The clock of a CLI command: the real one, or in a sandbox the moved one (issue 15)."""

from __future__ import annotations

from app.core.clock import Clock, SystemClock
from app.core.database import Database
from app.core.settings import Settings
from app.sandbox.clock import sandbox_clock


async def command_clock(database: Database, settings: Settings) -> Clock:
    if settings.sandbox:
        return await sandbox_clock(database, SystemClock())
    return SystemClock()
