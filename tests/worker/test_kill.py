"""A killed worker's bill run resumes and ends ``finished``, each invoice issued once
(issue 12 §5, §7): in process (a cancelled task), and end to end (``kill -9`` of a real
``scms worker`` in the middle of a run, then another worker, stopped with SIGTERM)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core import jobs
from app.core.clock import FixedClock
from app.core.jobs import Job
from app.core.settings import Settings
from app.events.models import Event
from app.invoices import billing_runs
from app.invoices.models import BillingRun, Invoice
from app.worker.runner import Worker
from tests.invoices.billing_steps import active_contract, example_b
from tests.support.live import LiveApp, live_app

CONTRACTS = 6
HERE = Path(__file__).resolve().parent


@pytest.fixture
async def live(db_kind: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[LiveApp]:
    async with live_app(db_kind, tmp_path, clock) as app:
        for n in range(CONTRACTS):
            if n % 3 == 0:
                await example_b(app.client, app.admin)
            else:
                await active_contract(app.client, app.admin)
        yield app


async def _start(live: LiveApp) -> str:
    started = await live.client.post(
        "/v1/billing-runs", json={"month": "2026-06"}, headers=live.admin
    )
    assert started.status_code == 202, started.text
    run_id: str = started.json()["id"]
    return run_id


async def _run(live: LiveApp, run_id: str) -> BillingRun:
    async with live.database.sessionmaker() as session:
        run = await session.get(BillingRun, run_id)
        assert run is not None
        return run


async def _assert_each_contract_invoiced_once(live: LiveApp) -> None:
    async with live.database.sessionmaker() as session:
        rows = (await session.execute(select(Invoice.contract_id, Invoice.number))).all()
    assert len(rows) == CONTRACTS
    assert len({contract for contract, _ in rows}) == CONTRACTS
    numbers = sorted(int(number.rsplit("-", 1)[1]) for _, number in rows)
    assert numbers == list(range(1, CONTRACTS + 1))


async def _finished_events(live: LiveApp, run_id: str) -> int:
    async with live.database.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.type == "billing_run.finished", Event.resource_id == run_id)
            )
            or 0
        )


async def test_a_run_whose_worker_died_is_resumed_by_the_next(
    live: LiveApp, clock: FixedClock
) -> None:
    """The dead worker held the job and committed some batches; once its lease has run
    out another worker takes the job over and finishes the same run."""
    run_id = await _start(live)
    settings = Settings(database_url=live.database.url, bill_run_batch_size=2)
    async with live.database.sessionmaker.begin() as session:
        held = await jobs.claim(
            session,
            worker="dead",
            now=clock.now(),
            lease=timedelta(seconds=30),
            kinds=("bill_run",),
        )
    assert held is not None
    task: asyncio.Task[BillingRun | None] | None = None

    def die_after_first_batch(done: int, total: int) -> None:
        if done > 0 and task is not None:
            task.cancel()

    async def dead_worker() -> BillingRun | None:
        async with live.database.sessionmaker.begin() as session:
            run = await session.get(BillingRun, run_id)
            assert run is not None
            run.status = "running"
        return await billing_runs.execute(
            live.database, run_id, settings, clock, progress=die_after_first_batch
        )

    task = asyncio.ensure_future(dead_worker())
    with pytest.raises(asyncio.CancelledError):
        await task
    killed = await _run(live, run_id)
    assert killed.status == "running"
    assert 0 < killed.invoices_created < CONTRACTS

    resumer = Worker(live.database, settings, clock, periodic=())
    assert not await resumer.run_one_job()  # the lease still stands
    clock.instant += timedelta(seconds=31)
    assert await resumer.run_one_job()
    resumed = await _run(live, run_id)
    assert resumed.status == "finished"
    # The run's own invoices from before the crash count as created, not as existing.
    assert (resumed.invoices_created, resumed.invoices_existing, resumed.failed) == (
        CONTRACTS,
        0,
        0,
    )
    await _assert_each_contract_invoiced_once(live)
    assert await _finished_events(live, run_id) == 1
    async with live.database.sessionmaker() as session:
        job = (await session.scalars(select(Job).where(Job.key == run_id))).one()
    assert (job.state, job.attempts) == ("done", 2)


def _worker_process(live: LiveApp, log: Path, *, slow: bool) -> subprocess.Popen[bytes]:
    """A worker process writing to ``log`` (its file closed here: the child has its own)."""
    env = {
        **os.environ,
        "SCMS_DATABASE_URL": live.database.url,
        "SCMS_BILL_RUN_BATCH_SIZE": "1",
        "SCMS_WORKER_LEASE_SECONDS": "2",
        "SCMS_WORKER_POLL_SECONDS": "0.1",
        "SCMS_LOG_LEVEL": "INFO",
        "SLOW_BATCH_SECONDS": "0.4",
    }
    command = (
        [sys.executable, str(HERE / "slow_worker.py")]
        if slow
        else [sys.executable, "-m", "app.cli.main", "worker"]
    )
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


async def _wait_for(
    what: str, check: Callable[[], Awaitable[bool]], *, log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {log.read_text()[-3000:]}")


async def test_kill_9_in_the_middle_of_a_bill_run_then_another_worker_finishes_it(
    live: LiveApp, tmp_path: Path
) -> None:
    run_id = await _start(live)
    first = _worker_process(live, tmp_path / "first.log", slow=True)
    try:

        async def some_batches_committed() -> bool:
            run = await _run(live, run_id)
            return run.status == "running" and run.invoices_created >= 2

        await _wait_for("the first batches", some_batches_committed, log=tmp_path / "first.log")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    killed = await _run(live, run_id)
    assert killed.status == "running", (tmp_path / "first.log").read_text()
    assert killed.invoices_created < CONTRACTS

    second = _worker_process(live, tmp_path / "second.log", slow=False)
    try:

        async def ended() -> bool:
            return (await _run(live, run_id)).status != "running"

        await _wait_for("the resumed run to end", ended, log=tmp_path / "second.log")
    finally:
        second.send_signal(signal.SIGTERM)
        exit_code = second.wait(timeout=30)
    log = (tmp_path / "second.log").read_text()
    assert exit_code == 0, log
    assert "bill run resumed" in log
    run = await _run(live, run_id)
    assert (run.status, run.invoices_created, run.invoices_existing) == (
        "finished",
        CONTRACTS,
        0,
    ), log
    await _assert_each_contract_invoiced_once(live)
    assert await _finished_events(live, run_id) == 1
