"""Benchmark (issue 12 §6): what the outbox and Idempotency-Key cost ``POST /v1/customers``.

Run ``python bench/idempotency_bench.py`` (``make bench``); prints one JSON object per
database (PostgreSQL when ``SCMS_BENCH_POSTGRES_URL``'s server answers, and SQLite). The
app runs in-process (httpx ASGITransport) on a fresh database; requests go one at a time,
in rounds that alternate the two cases so that drift hits both alike:

- ``plain``: no ``Idempotency-Key``, and ``record_event`` replaced by a no-op in every
  module that uses it (the request without the outbox either);
- ``keyed``: a fresh ``Idempotency-Key`` per request (the first-attempt path: the look,
  then the answer written by the change's commit) and the outbox on.

``overhead`` is keyed / plain - 1 of the median latency; the target is at most 0.15, held
for PostgreSQL, the production database (SQLite's line is reported: docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.api_keys.schemas import ApiKeyCreate  # noqa: E402
from app.api_keys.service import create_key  # noqa: E402
from app.auth.roles import Role  # noqa: E402
from app.core.clock import SystemClock  # noqa: E402
from app.core.database import Database, create_engine  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.events import outbox  # noqa: E402
from app.main import create_app  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
PER_ROUND = 25
TARGET_OVERHEAD = 0.15
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@contextmanager
def _without_outbox() -> Iterator[None]:
    """Every module's ``record_event`` a no-op (the request as it was before the outbox)."""

    async def nothing(*args: Any, **kwargs: Any) -> None:
        return None

    real = outbox.record_event
    patched = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("app.") and getattr(module, "record_event", None) is real
    ]
    for module in patched:
        module.record_event = nothing  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in patched:
            module.record_event = real  # type: ignore[attr-defined]


async def _post(client: httpx.AsyncClient, headers: dict[str, str], n: int) -> float:
    body = {"name": f"株式会社ベンチ{n}", "billing_name": "経理部", "email": "b@example.co.jp"}
    started = time.perf_counter()
    response = await client.post("/v1/customers", json=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text
    return elapsed


async def _measure(url: str, database_kind: str) -> dict[str, object]:
    await asyncio.to_thread(upgrade, url)
    database = Database(create_engine(url, pool_size=5))
    try:
        async with database.sessionmaker.begin() as session:
            _, secret = await create_key(
                session, ApiKeyCreate(name="bench", role=Role.ADMIN), SystemClock()
            )
        app = create_app(Settings(database_url=url, log_level="WARNING"), database=database)
        key = {"Authorization": f"Bearer {secret}"}
        transport = httpx.ASGITransport(app=app)
        timings: dict[str, list[float]] = {"plain": [], "keyed": []}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for n in range(20):  # warm-up: imports, pools, plans
                await _post(client, {**key, "Idempotency-Key": uuid.uuid4().hex}, n)
                with _without_outbox():
                    await _post(client, key, n)
            n = 0
            for _ in range(ROUNDS):
                with _without_outbox():
                    for _ in range(PER_ROUND):
                        n += 1
                        timings["plain"].append(await _post(client, key, n))
                for _ in range(PER_ROUND):
                    n += 1
                    headers = {**key, "Idempotency-Key": uuid.uuid4().hex}
                    timings["keyed"].append(await _post(client, headers, n))
    finally:
        await database.dispose()
    plain, keyed = (statistics.median(timings[k]) for k in ("plain", "keyed"))
    overhead = keyed / plain - 1
    return {
        "bench": "outbox_and_idempotency_cost",
        "database": database_kind,
        "requests_each": ROUNDS * PER_ROUND,
        "plain_median_ms": round(plain * 1000, 3),
        "keyed_median_ms": round(keyed * 1000, 3),
        "plain_mean_ms": round(statistics.fmean(timings["plain"]) * 1000, 3),
        "keyed_mean_ms": round(statistics.fmean(timings["keyed"]) * 1000, 3),
        "overhead": round(overhead, 4),
        "target_overhead": TARGET_OVERHEAD,
        "ok": overhead <= TARGET_OVERHEAD,
    }


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres() -> dict[str, object] | None:
    server = os.environ.get("SCMS_BENCH_POSTGRES_URL", DEFAULT_URL)
    name = f"scms_idem_bench_{secrets.token_hex(4)}"
    try:
        admin = await asyncpg.connect(_dsn(server), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(json.dumps({"bench": "outbox_and_idempotency_cost", "skipped": str(exc)}))
        return None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        return await _measure(url, "postgresql")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    result = await _postgres()
    if result is not None:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        result = await _measure(f"sqlite+aiosqlite:///{folder}/bench.db", "sqlite")
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
