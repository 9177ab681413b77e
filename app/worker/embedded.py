"""The worker ``scms serve`` runs beside the API, in the server's own process and event
loop (``SCMS_EMBEDDED_WORKER``, default true): ``make run`` alone does everything on
SQLite. Production turns it off on the API replicas and runs ``scms worker`` processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.worker.runner import Worker

logger = logging.getLogger("scms.worker")


@asynccontextmanager
async def embedded_worker(app: FastAPI) -> AsyncIterator[None]:
    """Run a worker for as long as the application runs; stop it (releasing what it
    holds) when the server shuts down."""
    worker = Worker(app.state.database, app.state.settings, app.state.clock)
    running = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        worker.stop()
        try:
            await running
        except Exception:
            logger.exception("the embedded worker stopped with an error")
