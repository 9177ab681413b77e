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
- ``outbox_lag``: ``BENCH_WEBHOOK_WRITERS`` (4) writer processes with
  ``BENCH_WEBHOOK_WRITER_CONNECTIONS`` (2) connections each share a steady
  ``BENCH_WEBHOOK_RATE`` (200) writes per second for ``BENCH_WEBHOOK_SECONDS`` (20): every
  event is recorded with ``record_event`` in a transaction of its own, as an API write
  records it, at its slot of one schedule. Meanwhile 1, then 2 delivery loops run
  (``BENCH_WEBHOOK_LOOPS``, ``1,2``): per event, delivered_at - occurred_at as p50, p99
  and max (and the p99 of its part before the fan-out), beside the write rate asked for
  and the one achieved, how late the writers ran behind their schedule, and the load
  average before and after. ``ok`` needs the asked rate achieved (a figure measured at a lower
  rate says nothing about 200/s), every event delivered and p99 within 2 s (issue 12 §6).

A delivery loop is the worker's own ``deliver_webhooks`` periodic task (app/worker/tasks.py)
in a process of its own, run the way the worker runs it: again at once while it finds
work, after the task's ``every`` seconds when it found none.

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
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from app.core.clock import Clock, SystemClock  # noqa: E402
from app.core.database import Database, create_engine  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.events.catalogue import EventType  # noqa: E402
from app.events.models import Event  # noqa: E402
from app.events.outbox import record_event  # noqa: E402
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from app.webhooks.signing import new_secret  # noqa: E402
from app.worker.tasks import PERIODIC  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "3000"))
RATE = int(os.environ.get("BENCH_WEBHOOK_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_WEBHOOK_SECONDS", "20"))
# The delivery loops the lag is measured with, one line each.
LAG_LOOPS = tuple(int(n) for n in os.environ.get("BENCH_WEBHOOK_LOOPS", "1,2").split(","))
WRITERS = int(os.environ.get("BENCH_WEBHOOK_WRITERS", "4"))
WRITER_CONNECTIONS = int(os.environ.get("BENCH_WEBHOOK_WRITER_CONNECTIONS", "2"))
TARGET_LAG_P99_S = 2.0  # issue 12 §6
# The achieved rate may fall this far below the asked one (the schedule's last slot, a
# commit's latency); any further and the line is not ok.
RATE_TOLERANCE = 0.99
LOOP_ENV = {
    "SCMS_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "SCMS_WEBHOOK_BATCH_SIZE": "100",
    "SCMS_WEBHOOK_CONCURRENCY": "20",
    "SCMS_LOG_LEVEL": "WARNING",
}


async def loop_forever() -> None:
    """``--loop``: the worker's webhook task, run as the worker runs its periodic tasks."""
    settings = Settings()
    database = Database(create_engine(settings.database_url, pool_size=2))
    clock = SystemClock()
    task = next(p for p in PERIODIC if p.name == "deliver_webhooks")
    async with task.open() as run:
        while True:
            if await run(database, settings, clock) <= 0:
                await asyncio.sleep(task.every)


async def write_forever(url: str, slots: list[int]) -> None:
    """``--write``: one writer process. Once its connections are open it says ``ready``
    and reads the schedule's start (wall clock, shared by the writer processes) from
    stdin; each connection then records the events of its slots, slot ``n`` due at
    ``start + n / RATE``, each in a transaction of its own. Prints what it did as one
    JSON line."""
    database = Database(create_engine(url, pool_size=WRITER_CONNECTIONS))
    clock = SystemClock()
    late: list[float] = []
    ends: list[float] = []
    errors = 0
    start = 0.0

    async def connection(mine: list[int]) -> None:
        nonlocal errors
        for n in mine:
            pause = start + n / RATE - time.time()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                async with database.sessionmaker() as session:
                    await record_invoice_event(session, clock, n)
                    await session.commit()
            except Exception:
                errors += 1
                continue
            done = time.time()
            late.append(done - (start + n / RATE))
            ends.append(done)

    try:
        # Warm the pool before the clock starts: the first connect is not a write.
        async with asyncio.TaskGroup() as group:
            for _ in range(WRITER_CONNECTIONS):
                group.create_task(_touch(database))
        print("ready", flush=True)
        start = float(await asyncio.to_thread(sys.stdin.readline))
        async with asyncio.TaskGroup() as group:
            for c in range(WRITER_CONNECTIONS):
                group.create_task(connection(slots[c::WRITER_CONNECTIONS]))
    finally:
        await database.dispose()
    print(
        json.dumps(
            {"written": len(ends), "errors": errors, "end": max(ends, default=start), "late": late}
        )
    )


async def _touch(database: Database) -> None:
    async with database.sessionmaker() as session:
        await session.execute(select(1))
        await asyncio.sleep(0.2)  # held, so that each task opens a connection of its own


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


async def record_invoice_event(session: AsyncSession, clock: Clock, n: int) -> None:
    """The bench's event n, recorded as a service records one (in the caller's session)."""
    await record_event(
        session,
        clock=clock,
        type=EventType.INVOICE_ISSUED,
        resource_type="invoice",
        resource_id=f"inv_{n}",
        data={"id": f"inv_{n}", "number": f"INV-{n:08d}", "total": 11000},
        customer_id=None,
    )


async def record(database: Database, count: int) -> None:
    clock = SystemClock()
    async with database.sessionmaker() as session:
        for n in range(count):
            await record_invoice_event(session, clock, n)
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


def start_writers(url: str, events: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--write", url],
            env={
                **os.environ,
                "SCMS_LOG_LEVEL": "WARNING",
                "BENCH_WEBHOOK_SLOTS": ",".join(str(n) for n in range(w, events, WRITERS)),
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for w in range(WRITERS)
    ]


def _pct(values: list[float], p: float) -> float:
    return round(values[min(len(values) - 1, int(p * len(values)))], 3)


async def lag(database: Database, url: str, loops: int) -> dict[str, Any]:
    async with database.sessionmaker() as session:
        await session.execute(delete(WebhookDelivery))
        await session.execute(delete(Event))
        await session.commit()
    events = int(RATE * SECONDS)
    processes = start_loops(url, loops)
    writers: list[subprocess.Popen[bytes]] = []
    load_before = os.getloadavg()
    try:
        await asyncio.sleep(2)  # the loop processes are up before the clock starts
        # The writers start (imports, connections) before the schedule does.
        writers = start_writers(url, events)
        for writer in writers:
            assert writer.stdout is not None
            line = await asyncio.to_thread(writer.stdout.readline)
            if line.strip() != b"ready":
                raise RuntimeError(f"a writer did not start: {line!r}")
        start = time.time() + 0.5
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write(f"{start}\n".encode())
            writer.stdin.close()
        reports = []
        for writer in writers:
            assert writer.stdout is not None
            out = await asyncio.to_thread(writer.stdout.read)
            await asyncio.to_thread(writer.wait)
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        load_during = os.getloadavg()
        written = sum(r["written"] for r in reports)
        span = max(r["end"] for r in reports) - start
        achieved = written / span if span > 0 else 0.0
        late = sorted(x for r in reports for x in r["late"])
        deadline = time.monotonic() + 120
        while (await delivered(database))[0] < written and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        stop(processes)
        stop([w for w in writers if w.poll() is None])
    async with database.sessionmaker() as session:
        rows = (
            await session.execute(
                select(
                    WebhookDelivery.delivered_at,
                    WebhookDelivery.event_occurred_at,
                    WebhookDelivery.created_at,
                ).where(WebhookDelivery.status == "delivered")
            )
        ).all()
    lags = sorted((d - o).total_seconds() for d, o, _ in rows if d is not None)
    # The share of the lag spent before the fan-out made the event a delivery.
    fanned = sorted((c - o).total_seconds() for _, o, c in rows)
    rate_ok = achieved >= RATE * RATE_TOLERANCE and written == events
    result: dict[str, Any] = {
        "case": "outbox_lag",
        "db": database.url.split(":", 1)[0].split("+", 1)[0],
        "loops": loops,
        "writers": f"{WRITERS} processes x {WRITER_CONNECTIONS} connections",
        "asked_writes_per_second": RATE,
        "achieved_writes_per_second": round(achieved, 1),
        "seconds": SECONDS,
        "events": written,
        "write_errors": sum(r["errors"] for r in reports),
        "write_late_p99_s": _pct(late, 0.99) if late else None,
        "write_late_max_s": round(late[-1], 3) if late else None,
        "delivered": len(lags),
        "lag_p50_s": _pct(lags, 0.50) if lags else None,
        "lag_p99_s": _pct(lags, 0.99) if lags else None,
        "lag_max_s": round(lags[-1], 3) if lags else None,
        "fan_out_p99_s": _pct(fanned, 0.99) if fanned else None,
        "target": {"writes_per_second": RATE, "lag_p99_s": TARGET_LAG_P99_S},
        "ok": bool(
            rate_ok and len(lags) == written and lags and _pct(lags, 0.99) <= TARGET_LAG_P99_S
        ),
        "load_1m": [round(load_before[0], 2), round(load_during[0], 2)],
    }
    if not rate_ok:
        result["note"] = (
            f"the writers did not sustain {RATE} writes/s on this database: the lag was "
            f"measured at {achieved:.0f}/s and says nothing about {RATE}/s"
        )
    return result


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
            for loops in LAG_LOOPS:
                print(json.dumps(await lag(database, url, loops)), flush=True)
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
    parser.add_argument("--write", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        asyncio.run(loop_forever())
    elif args.write:
        slots = [int(n) for n in os.environ["BENCH_WEBHOOK_SLOTS"].split(",") if n]
        asyncio.run(write_forever(args.write, slots))
    else:
        asyncio.run(main(args.db, tuple(args.case or ("throughput", "lag"))))
