"""Benchmark (issue 12 §6): webhook delivery throughput and the outbox lag.

``python bench/webhooks_bench.py [--db postgres|sqlite] [--case throughput|lag]``
(``make bench`` runs both cases; PostgreSQL by
default, on the server of ``SCMS_BENCH_POSTGRES_URL``, default
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres, in a database of its own that is
dropped at the end). Prints one JSON object per case:

- ``delivery_throughput``: ``BENCH_WEBHOOK_EVENTS`` (3,000) events recorded up front, one
  endpoint asking for them, then 1 and then 2 delivery loops (each a process of its own
  calling ``deliver_due`` in a loop, as the worker does) until every delivery is
  delivered: events delivered per second, and how many arrived twice (0 expected);
- ``outbox_lag``: a writer records events at a steady ``BENCH_WEBHOOK_RATE`` (200) per
  second, each in its own transaction, for ``BENCH_WEBHOOK_SECONDS`` (20), while one
  delivery loop runs: per event, delivered_at - occurred_at, as p50, p99 and max.

The receiver is a local uvicorn process answering 204 (bench/webhooks_receiver.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import delete, func, select, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.core.clock import SystemClock  # noqa: E402
from app.core.database import Database, create_engine  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.events.catalogue import EventType  # noqa: E402
from app.events.models import Event  # noqa: E402
from app.events.outbox import record_event  # noqa: E402
from app.webhooks.delivery import deliver_due  # noqa: E402
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from app.webhooks.sender import new_client  # noqa: E402
from app.webhooks.signing import new_secret  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "3000"))
RATE = int(os.environ.get("BENCH_WEBHOOK_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_WEBHOOK_SECONDS", "20"))
LOOP_ENV = {
    "SCMS_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "SCMS_WEBHOOK_BATCH_SIZE": "100",
    "SCMS_WEBHOOK_CONCURRENCY": "20",
    "SCMS_LOG_LEVEL": "WARNING",
}


async def loop_forever() -> None:
    """``--loop``: what the worker does, without the worker."""
    settings = Settings()
    database = Database(create_engine(settings.database_url, pool_size=2))
    clock = SystemClock()
    async with new_client() as client:
        while True:
            if await deliver_due(database, settings, clock, client=client) == 0:
                await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "webhooks_receiver:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT / "bench",
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}/hooks"


def start_loops(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, **LOOP_ENV, "SCMS_DATABASE_URL": url}
    return [
        subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--loop"], env=env)
        for _ in range(count)
    ]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.kill()
        process.wait()


async def add_endpoint(database: Database, url: str) -> None:
    now = SystemClock().now()
    async with database.sessionmaker() as session:
        session.add(
            WebhookEndpoint(
                id=new_id("whe"),
                url=url,
                description="bench",
                events=[EventType.INVOICE_ISSUED.value],
                status="enabled",
                secret=new_secret(),
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()


async def record(database: Database, count: int) -> None:
    clock = SystemClock()
    async with database.sessionmaker() as session:
        for n in range(count):
            await record_event(
                session,
                clock=clock,
                type=EventType.INVOICE_ISSUED,
                resource_type="invoice",
                resource_id=f"inv_{n}",
                data={"id": f"inv_{n}", "number": f"INV-{n:08d}", "total": 11000},
                customer_id=None,
            )
        await session.commit()


async def delivered(database: Database) -> tuple[int, int]:
    """Deliveries delivered, and the attempts made in all (above the first: resent)."""
    async with database.sessionmaker() as session:
        row = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(WebhookDelivery.attempts), 0)).where(
                    WebhookDelivery.status == "delivered"
                )
            )
        ).one()
    return int(row[0]), int(row[1])


async def throughput(database: Database, url: str, loops: int) -> dict[str, Any]:
    async with database.sessionmaker() as session:
        await session.execute(delete(WebhookDelivery))
        await session.execute(delete(Event))
        await session.commit()
    await record(database, EVENTS)
    started = time.monotonic()
    processes = start_loops(url, loops)
    try:
        while (await delivered(database))[0] < EVENTS:
            if time.monotonic() - started > 600:
                raise RuntimeError("deliveries did not finish in 10 minutes")
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        stop(processes)
    count, attempts = await delivered(database)
    return {
        "case": "delivery_throughput",
        "loops": loops,
        "events": count,
        "seconds": round(elapsed, 2),
        "events_per_second": round(count / elapsed, 1),
        "attempts_beyond_one": attempts - count,
        "note": "wall time includes starting the loop processes (about 1 s)",
    }


async def lag(database: Database, url: str) -> dict[str, Any]:
    async with database.sessionmaker() as session:
        await session.execute(delete(WebhookDelivery))
        await session.execute(delete(Event))
        await session.commit()
    processes = start_loops(url, 1)
    await asyncio.sleep(2)  # the loop process is up before the clock starts
    clock = SystemClock()
    written = 0
    try:
        started = time.monotonic()
        while time.monotonic() - started < SECONDS:
            due = started + written / RATE
            pause = due - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            async with database.sessionmaker() as session:
                await record_event(
                    session,
                    clock=clock,
                    type=EventType.INVOICE_ISSUED,
                    resource_type="invoice",
                    resource_id=f"inv_{written}",
                    data={"id": f"inv_{written}", "total": 11000},
                    customer_id=None,
                )
                await session.commit()
            written += 1
        achieved = written / (time.monotonic() - started)
        deadline = time.monotonic() + 120
        while (await delivered(database))[0] < written and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        stop(processes)
    async with database.sessionmaker() as session:
        rows = (
            await session.execute(
                select(WebhookDelivery.delivered_at, WebhookDelivery.event_occurred_at).where(
                    WebhookDelivery.status == "delivered"
                )
            )
        ).all()
    lags = sorted((d - o).total_seconds() for d, o in rows if d is not None)

    def pct(p: float) -> float:
        return round(lags[min(len(lags) - 1, int(p * len(lags)))], 3)

    return {
        "case": "outbox_lag",
        "target_writes_per_second": RATE,
        "achieved_writes_per_second": round(achieved, 1),
        "events": written,
        "delivered": len(lags),
        "lag_p50_s": pct(0.50),
        "lag_p99_s": pct(0.99),
        "lag_max_s": round(lags[-1], 3),
        "limit_p99_s": 2.0,
    }


async def run(url: str, cases: tuple[str, ...]) -> None:
    await asyncio.to_thread(upgrade, url)
    database = Database(create_engine(url, pool_size=4))
    receiver, hook_url = start_receiver()
    try:
        await add_endpoint(database, hook_url)
        if "throughput" in cases:
            for loops in (1, 2):
                print(json.dumps(await throughput(database, url, loops)), flush=True)
        if "lag" in cases:
            print(json.dumps(await lag(database, url)), flush=True)
    finally:
        stop([receiver])
        async with database.sessionmaker() as session:
            await session.execute(update(WebhookEndpoint).values(status="disabled"))
            await session.commit()
        await database.dispose()


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def main(kind: str, cases: tuple[str, ...]) -> None:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            await run(f"sqlite+aiosqlite:///{directory}/webhooks-bench.db", cases)
        return
    server = os.environ.get("SCMS_BENCH_POSTGRES_URL", DEFAULT_URL)
    name = f"scms_webhooks_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_dsn(server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await run(
                make_url(server).set(database=name).render_as_string(hide_password=False), cases
            )
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--case", choices=("throughput", "lag"), action="append")
    parser.add_argument("--loop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        asyncio.run(loop_forever())
    else:
        asyncio.run(main(args.db, tuple(args.case or ("throughput", "lag"))))
