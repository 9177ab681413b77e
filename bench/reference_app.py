"""The bare reference the API bench compares with (issue 11): Starlette + asyncpg.

It does what the service does at the least cost the stack allows: reads one contract row
by id and answers it as JSON, inserts one customer row, answers ``/healthz``. No
authentication, no validation, no ORM. ``uvicorn bench.reference_app:app`` with
``REFERENCE_DSN`` set (bench/api_bench.py starts it).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=_plain), status, media_type="application/json")


async def contract(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    row = await pool.fetchrow("SELECT * FROM contracts WHERE id = $1", request.path_params["id"])
    if row is None:
        return _json({"detail": "not found"}, 404)
    return _json(dict(row))


async def customer(request: Request) -> Response:
    pool: asyncpg.Pool = request.app.state.pool
    data = json.loads(await request.body())
    now = datetime.now(UTC)
    row = await pool.fetchrow(
        "INSERT INTO customers (id, name, billing_name, email, version, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING *",
        f"cus_ref{secrets.token_hex(10)}",
        data["name"],
        data["billing_name"],
        data["email"],
        now,
    )
    return _json(dict(row), 201)


async def healthz(_: Request) -> Response:
    return _json({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["REFERENCE_DSN"], min_size=4, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/contracts/{id}", contract),
        Route("/customers", customer, methods=["POST"]),
        Route("/healthz", healthz),
    ],
    lifespan=lifespan,
)
