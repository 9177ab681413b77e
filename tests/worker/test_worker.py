"""The worker's machinery: leases, takeover, SIGTERM's release, retries, metrics (§5)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.clock import Clock, FixedClock
from app.core.database import Database
from app.core.jobs import Job
from app.core.settings import Settings
from app.webhooks.delivery import delivering
from app.worker import runner
from app.worker.runner import Worker
from app.worker.tasks import PERIODIC, Periodic
from tests.invoices.billing_steps import active_contract, start_run
from tests.support.databases import BoundDatabase

LEASE = timedelta(seconds=30)


async def _claim(database: Database, worker: str, clock: FixedClock) -> jobs.Claimed | None:
    async with database.sessionmaker.begin() as session:
        return await jobs.claim(
            session, worker=worker, now=clock.now(), lease=LEASE, kinds=("test",)
        )


async def _job(session: AsyncSession, job_id: str) -> Job:
    job = await session.get(Job, job_id, populate_existing=True)
    assert job is not None
    return job


async def test_a_claimed_job_is_nobody_elses_until_its_lease_runs_out(
    database: BoundDatabase, session: AsyncSession, clock: FixedClock
) -> None:
    job = await jobs.enqueue(session, kind="test", key="one", now=clock.now())
    await session.commit()
    first = await _claim(database, "a", clock)
    assert first is not None
    assert (first.id, first.attempts) == (job.id, 1)
    assert await _claim(database, "b", clock) is None
    clock.instant += LEASE + timedelta(seconds=1)  # "a" died: it stopped extending
    taken = await _claim(database, "b", clock)
    assert taken is not None
    assert (taken.id, taken.attempts) == (job.id, 2)
    async with database.sessionmaker.begin() as s:
        # The dead worker's late word counts for nothing; the holder's does.
        assert not await jobs.finish(s, job.id, worker="a", now=clock.now())
        assert await jobs.finish(s, job.id, worker="b", now=clock.now())
    assert (await _job(session, job.id)).state == "done"


async def test_the_same_work_is_queued_once(session: AsyncSession, clock: FixedClock) -> None:
    from sqlalchemy.exc import IntegrityError

    await jobs.enqueue(session, kind="test", key="same", now=clock.now())
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await jobs.enqueue(session, kind="test", key="same", now=clock.now())


def _settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"worker_lease_seconds": 30, "worker_poll_seconds": 0.01})


async def test_a_stopping_worker_releases_the_job_it_cannot_finish(
    database: BoundDatabase,
    session: AsyncSession,
    clock: FixedClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM: the job in hand gets a grace period, then goes back to the queue at once
    (no waiting for the lease), and the worker exits."""
    monkeypatch.setattr(runner, "SHUTDOWN_GRACE", 0.05)
    started = asyncio.Event()

    async def endless(database: Database, settings: Settings, clock: Clock, key: str) -> None:
        started.set()
        await asyncio.Event().wait()

    job = await jobs.enqueue(session, kind="test", key="long", now=clock.now())
    await session.commit()
    worker = Worker(database, _settings(settings), clock, handlers={"test": endless}, periodic=())
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 5)
    assert (await _job(session, job.id)).state == "running"
    worker.stop()
    await asyncio.wait_for(running, 5)
    released = await _job(session, job.id)
    assert (released.state, released.leased_by, released.leased_until) == ("queued", None, None)
    assert released.run_after <= clock.now()


async def test_a_stopping_worker_finishes_a_job_that_ends_within_the_grace(
    database: BoundDatabase, session: AsyncSession, clock: FixedClock, settings: Settings
) -> None:
    started, go_on = asyncio.Event(), asyncio.Event()

    async def short(database: Database, settings: Settings, clock: Clock, key: str) -> None:
        started.set()
        await go_on.wait()

    job = await jobs.enqueue(session, kind="test", key="short", now=clock.now())
    await session.commit()
    worker = Worker(database, _settings(settings), clock, handlers={"test": short}, periodic=())
    running = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 5)
    worker.stop()
    go_on.set()
    await asyncio.wait_for(running, 10)
    assert (await _job(session, job.id)).state == "done"


async def test_a_failing_job_is_retried_later_then_failed(
    database: BoundDatabase, session: AsyncSession, clock: FixedClock, settings: Settings
) -> None:
    async def broken(database: Database, settings: Settings, clock: Clock, key: str) -> None:
        raise ValueError("cannot")

    job = await jobs.enqueue(session, kind="test", key="bad", now=clock.now())
    await session.commit()
    worker = Worker(database, _settings(settings), clock, handlers={"test": broken}, periodic=())
    for attempt in range(1, runner.MAX_ATTEMPTS + 1):
        assert await worker.run_one_job()
        seen = await _job(session, job.id)
        assert seen.attempts == attempt
        assert seen.error == "ValueError: cannot"
        if attempt < runner.MAX_ATTEMPTS:
            assert seen.state == "queued"
            assert seen.run_after > clock.now()
            assert not await worker.run_one_job()  # not before its time
            clock.instant = seen.run_after
    assert (await _job(session, job.id)).state == "failed"
    assert not await worker.run_one_job()


async def test_metrics_count_jobs_by_state(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await active_contract(client, admin)
    await start_run(client, admin, "2026-06")
    await start_run(client, admin, "2026-06", dry_run=True)
    text = (await client.get("/metrics")).text
    assert 'scms_jobs{state="queued"} 2.0' in text
    assert 'scms_jobs{state="failed"} 0.0' in text


async def test_the_worker_runs_its_periodic_tasks_until_stopped(
    database: BoundDatabase, clock: FixedClock, settings: Settings
) -> None:
    calls: list[str] = []

    async def tick(database: Database, settings: Settings, clock: Clock) -> int:
        calls.append("tick")
        # Work found twice, then none: the loop runs at once while there is work.
        return 1 if len(calls) < 3 else 0

    worker = Worker(
        database,
        _settings(settings),
        clock,
        handlers={},
        periodic=(Periodic("tick", 3600, tick),),
    )
    running = asyncio.create_task(worker.run())
    for _ in range(100):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(running, 5)
    assert calls == ["tick"] * 3


async def test_jobs_of_unknown_kinds_are_left_to_workers_that_know_them(
    database: BoundDatabase, session: AsyncSession, clock: FixedClock, settings: Settings
) -> None:
    job = await jobs.enqueue(session, kind="future_kind", key="x", now=clock.now())
    await session.commit()
    worker = Worker(database, settings, clock, periodic=())
    assert not await worker.run_one_job()
    assert (await _job(session, job.id)).state == "queued"
    remaining = (await session.scalars(select(Job.state))).all()
    assert remaining == ["queued"]


async def test_ended_jobs_are_purged_after_the_retention_and_open_ones_never(
    database: BoundDatabase, session: AsyncSession, clock: FixedClock, settings: Settings
) -> None:
    from app.worker.tasks import purge_finished_jobs

    old = clock.now() - timedelta(days=settings.job_retention_days, seconds=1)
    recent = clock.now() - timedelta(days=settings.job_retention_days - 1)
    states = {
        "done-old": (jobs.DONE, old),
        "failed-old": (jobs.FAILED, old),
        "done-recent": (jobs.DONE, recent),
        "queued-old": (jobs.QUEUED, None),
        "running-old": (jobs.RUNNING, None),
    }
    for key, (state, finished_at) in states.items():
        job = await jobs.enqueue(session, kind="test", key=key, now=old)
        job.state, job.finished_at = state, finished_at
    await session.commit()

    assert await purge_finished_jobs(database, settings, clock) == 2
    assert await purge_finished_jobs(database, settings, clock) == 0
    kept = await session.scalars(select(Job.key).where(Job.kind == "test").order_by(Job.key))
    assert list(kept) == ["done-recent", "queued-old", "running-old"]


def test_the_job_retention_keeps_at_least_two_days() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(job_retention_days=1)


async def test_a_periodic_task_keeps_what_it_opened_until_the_worker_stops(
    database: BoundDatabase, clock: FixedClock, settings: Settings
) -> None:
    """The webhook task keeps one HTTP client for the worker's life (not one per batch):
    the worker enters a task's ``keep`` once, runs the batch it gives, and leaves it on
    stop."""
    seen: list[str] = []

    async def kept_tick(database: Database, settings: Settings, clock: Clock) -> int:
        seen.append("tick")
        return 1 if seen.count("tick") < 3 else 0

    async def unused(database: Database, settings: Settings, clock: Clock) -> int:
        raise AssertionError("the worker runs the kept batch, not run")

    @contextlib.asynccontextmanager
    async def keep() -> AsyncIterator[Callable[[Database, Settings, Clock], Awaitable[int]]]:
        seen.append("open")
        try:
            yield kept_tick
        finally:
            seen.append("close")

    worker = Worker(
        database,
        _settings(settings),
        clock,
        handlers={},
        periodic=(Periodic("kept", 3600, unused, keep=keep),),
    )
    running = asyncio.create_task(worker.run())
    for _ in range(100):
        if seen.count("tick") >= 3:
            break
        await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(running, 5)
    assert seen == ["open", "tick", "tick", "tick", "close"]


def test_the_webhook_task_keeps_its_client() -> None:
    task = next(p for p in PERIODIC if p.name == "deliver_webhooks")
    assert task.keep is delivering
