"""The job queue: background work as rows, claimed under a lease (issue 12 §5).

A job is a row in ``jobs``: a ``kind`` (what to do), a ``key`` (what it is about: a bill
run's id, the date of a daily roll), unique together so the same work is never queued
twice. Any number of workers, on any number of machines, share the queue:

- **claim**: ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) picks a job no one else is
  claiming at that instant, and the same transaction marks it ``running`` with a lease
  (``leased_until``) and the worker's id. On SQLite the claim transaction holds the write
  lock (BEGIN IMMEDIATE), which serialises claims just as well.
- **lease**: the worker extends it while it works (a heartbeat). A worker killed with
  ``kill -9`` stops extending it; once it has expired the job is claimable again, so
  the next worker takes it over. Work must therefore be safe to run again (the bill run
  is: it skips what is invoiced).
- **end**: ``done`` or ``failed`` (with the error), only by the worker that holds the
  lease; ``release`` puts a job back in the queue at once (SIGTERM).
- **purge**: an ended job is kept a while (to look into a failure, for /metrics), then
  deleted by :func:`purge_finished`; the queue does not grow by a row a day for ever.

The queue knows nothing of what a kind means: the worker (app/worker) maps kinds to
handlers, and features enqueue in their own transaction, so a bill run's row and its job
commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.core.ids import new_id
from app.core.models import Base, IdColumn, Timestamp

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)


class Job(Base):
    """One piece of background work and who holds it."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        Index("ix_jobs_state_run_after", "state", "run_after"),
    )

    id: Mapped[str] = mapped_column(IdColumn, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    run_after: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    leased_until: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    leased_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job a worker holds: what to do, and the lease it must keep extending."""

    id: str
    kind: str
    key: str
    attempts: int


async def enqueue(session: AsyncSession, *, kind: str, key: str, now: datetime) -> Job:
    """Queue ``kind`` for ``key`` in the caller's transaction (it commits with the change)."""
    job = Job(
        id=new_id("job"),
        kind=kind,
        key=key,
        state=QUEUED,
        attempts=0,
        run_after=now,
        created_at=now,
    )
    session.add(job)
    await session.flush()
    return job


async def find(session: AsyncSession, *, kind: str, key: str) -> Job | None:
    return (
        await session.scalars(select(Job).where(Job.kind == kind, Job.key == key))
    ).one_or_none()


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        (Job.state == QUEUED) & (Job.run_after <= now),
        # A lease that ran out: its worker died (or lost the database); take it over.
        (Job.state == RUNNING) & (Job.leased_until < now),
    )


async def claim(
    session: AsyncSession, *, worker: str, now: datetime, lease: timedelta, kinds: tuple[str, ...]
) -> Claimed | None:
    """Take the oldest claimable job of ``kinds`` under a lease; the caller commits."""
    stmt = (
        select(Job)
        .where(_claimable(now), Job.kind.in_(kinds))
        .order_by(Job.run_after, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    job = (await session.scalars(stmt)).one_or_none()
    if job is None:
        return None
    job.state = RUNNING
    job.attempts += 1
    job.leased_until = now + lease
    job.leased_by = worker
    job.error = None
    await session.flush()
    return Claimed(job.id, job.kind, job.key, job.attempts)


async def _held(session: AsyncSession, job_id: str, worker: str, **values: object) -> bool:
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.leased_by == worker, Job.state == RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def extend(
    session: AsyncSession, job_id: str, *, worker: str, now: datetime, lease: timedelta
) -> bool:
    """The heartbeat; False when the lease was lost (another worker took the job over)."""
    return await _held(session, job_id, worker, leased_until=now + lease)


async def finish(
    session: AsyncSession, job_id: str, *, worker: str, now: datetime, error: str | None = None
) -> bool:
    """``done`` (or ``failed`` with ``error``) by the holder of the lease."""
    return await _held(
        session,
        job_id,
        worker,
        state=FAILED if error is not None else DONE,
        error=error,
        finished_at=now,
        leased_until=None,
    )


async def retry_later(
    session: AsyncSession, job_id: str, *, worker: str, run_after: datetime, error: str
) -> bool:
    """Back to the queue after a failure that may pass (the database away)."""
    return await _held(
        session,
        job_id,
        worker,
        state=QUEUED,
        run_after=run_after,
        error=error,
        leased_until=None,
        leased_by=None,
    )


async def release(session: AsyncSession, job_id: str, *, worker: str, now: datetime) -> bool:
    """Give a held job back to the queue at once (a worker stopping)."""
    return await _held(
        session, job_id, worker, state=QUEUED, run_after=now, leased_until=None, leased_by=None
    )


async def purge_finished(session: AsyncSession, *, before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` ended jobs (done or failed) that ended before ``before``,
    oldest first; how many went. Queued and running jobs are never touched."""
    oldest = (
        select(Job.id)
        .where(Job.state.in_((DONE, FAILED)), Job.finished_at < before)
        .order_by(Job.finished_at)
        .limit(limit)
    )
    result = await session.execute(delete(Job).where(Job.id.in_(oldest)))
    return int(getattr(result, "rowcount", 0) or 0)


async def counts_by_state(session: AsyncSession) -> dict[str, int]:
    """How many jobs are in each state (every state named, zero included): /metrics."""
    rows = await session.execute(select(Job.state, func.count()).group_by(Job.state))
    found = {state: 0 for state in STATES}
    found.update({state: int(count) for state, count in rows.all()})
    return found
