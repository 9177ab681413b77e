"""issue 12 §7: a delivering process killed with SIGKILL loses nothing; loops share the work.

Each test runs delivery loops as real processes (tests/webhooks/delivery_loop.py) on a
database of its own, committed for real, against a local receiver.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from app.core.clock import SystemClock
from app.core.database import Database, create_engine
from app.core.ids import new_id
from app.core.migrations import upgrade
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import new_secret
from tests.support.databases import fresh_database
from tests.webhooks.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 300
BATCH = 20


@pytest.fixture
async def real_database(db_kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    async with fresh_database(db_kind, tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        database = Database(create_engine(url, pool_size=2))
        try:
            yield database
        finally:
            await database.dispose()


async def seed(database: Database, url: str) -> tuple[str, list[str]]:
    clock = SystemClock()
    secret = new_secret()
    async with database.sessionmaker() as session:
        now = clock.now()
        session.add(
            WebhookEndpoint(
                id=new_id("whe"),
                url=url,
                description=None,
                events=[EventType.INVOICE_ISSUED.value],
                status="enabled",
                secret=secret,
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()
    ids = []
    async with database.sessionmaker() as session:
        for n in range(EVENTS):
            event_id = await record_event(
                session,
                clock=clock,
                type=EventType.INVOICE_ISSUED,
                resource_type="invoice",
                resource_id=f"inv_{n}",
                data={"id": f"inv_{n}", "total": 1100 * n},
                customer_id=None,
            )
            ids.append(event_id)
        await session.commit()
    return secret, ids


def start_loop(database: Database, lease_seconds: float) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SCMS_DATABASE_URL": database.url,
        "SCMS_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "SCMS_WEBHOOK_LEASE_SECONDS": str(lease_seconds),
        "SCMS_WEBHOOK_BATCH_SIZE": str(BATCH),
        "SCMS_WEBHOOK_CONCURRENCY": "4",
        "SCMS_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.webhooks.delivery_loop"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def delivered(database: Database) -> int:
    async with database.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "delivered")
        )
    return int(count or 0)


async def wait_delivered(database: Database, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while await delivered(database) < EVENTS:
        if time.monotonic() > deadline:
            pytest.fail(f"only {await delivered(database)} of {EVENTS} delivered in {seconds} s")
        await asyncio.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> str:
    process.kill()
    _, err = process.communicate(timeout=30)
    return err.decode(errors="replace")


async def test_a_delivery_loop_killed_mid_batch_loses_nothing(real_database: Database) -> None:
    with Receiver(delay=0.02) as receiver:
        secret, ids = await seed(real_database, receiver.url)
        first = start_loop(real_database, lease_seconds=2)
        try:
            await wait_for(lambda: len(receiver.received) >= 60, 60, "the first deliveries")
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        at_kill = len(receiver.received)
        assert at_kill < EVENTS, "killed after it had finished: nothing was interrupted"

        second = start_loop(real_database, lease_seconds=2)
        try:
            await wait_delivered(real_database, 120)
        finally:
            errors = stop(second)
        assert "Traceback" not in errors, errors

        received = receiver.ids()
        assert sorted(set(received)) == sorted(ids), "every event arrived"
        # At least once: only what the killed process had in flight may arrive twice.
        assert len(received) - EVENTS <= BATCH
        webhook = Webhook(secret)
        for got in receiver.received:
            webhook.verify(got.body, got.headers)


async def test_two_delivery_loops_share_the_work_and_send_each_event_once(
    real_database: Database,
) -> None:
    with Receiver(delay=0.01) as receiver:
        _, ids = await seed(real_database, receiver.url)
        loops = [start_loop(real_database, lease_seconds=30) for _ in range(2)]
        try:
            await wait_delivered(real_database, 120)
        finally:
            errors = [stop(loop) for loop in loops]
        assert all("Traceback" not in e for e in errors), errors
        assert sorted(receiver.ids()) == sorted(ids)
