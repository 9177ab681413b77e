"""A delivery loop in a process of its own, as the worker runs it (the kill -9 tests).

Run as ``python -m tests.webhooks.delivery_loop`` with the SCMS_* settings in the
environment; it delivers until it is killed.
"""

from __future__ import annotations

import asyncio

from app.core.clock import SystemClock
from app.core.database import Database, engine_from_settings
from app.core.settings import Settings
from app.webhooks.delivery import deliver_due
from app.webhooks.sender import new_client


async def main() -> None:
    settings = Settings()
    database = Database(engine_from_settings(settings))
    clock = SystemClock()
    print("delivering", flush=True)
    async with new_client() as client:
        while True:
            if await deliver_due(database, settings, clock, client=client) == 0:
                await asyncio.sleep(0.05)


if __name__ == "__main__":
    asyncio.run(main())
