"""Carrying out queued jobs inside a test, as a worker would (issue 12 §5)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.worker.runner import Worker


def app_of(client: httpx.AsyncClient) -> FastAPI:
    """The application behind a test client's ASGI transport."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    assert isinstance(app, FastAPI)
    return app


async def work_off(app: FastAPI | httpx.AsyncClient) -> int:
    """Claim and carry out every queued job, one after the other; how many there were."""
    if isinstance(app, httpx.AsyncClient):
        app = app_of(app)
    worker = Worker(app.state.database, app.state.settings, app.state.clock, periodic=())
    done = 0
    while await worker.run_one_job():
        done += 1
    return done
