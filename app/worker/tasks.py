"""What the worker does: the jobs it carries out, by kind, and its periodic tasks.

A **job** is one-off work someone asked for (a bill run over the API) or that a periodic
task scheduled (the day's roll): a row in ``jobs`` (app/core/jobs.py), claimed by one
worker under a lease. A **periodic task** is a batch every worker runs in a loop,
``(database, settings, clock) -> int`` (how much it did; more than 0 runs it again at
once, 0 waits ``every`` seconds): it must be safe to run on many workers at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.audit.log import purge_expired
from app.core import idempotency, jobs
from app.core.clock import Clock
from app.core.database import Database
from app.core.settings import Settings
from app.endings.rolling import roll
from app.invoices import billing_runs
from app.invoices.overdue import record_overdue
from app.webhooks.delivery import deliver_due, delivering

logger = logging.getLogger("scms.worker")

Handler = Callable[[Database, Settings, Clock, str], Coroutine[Any, Any, None]]
Batch = Callable[[Database, Settings, Clock], Awaitable[int]]

DAILY_ROLL = "daily_roll"


async def bill_run(database: Database, settings: Settings, clock: Clock, run_id: str) -> None:
    """A bill run asked for over the API: start it, or resume it (its worker died)."""
    await billing_runs.carry_out(database, run_id, settings, clock)


async def daily_roll(database: Database, settings: Settings, clock: Clock, day: str) -> None:
    """The day's roll: renewals and terminations whose dates have passed (R-TERM-2,
    R-TERM-4), then ``invoice.overdue`` for invoices past due. Both are idempotent."""
    as_of = date.fromisoformat(day)
    rolled = await roll(database, as_of, clock)
    overdue = await record_overdue(database, as_of, clock)
    logger.info(
        "daily roll done",
        extra={
            "as_of": day,
            "renewed": rolled.renewed,
            "terminated": rolled.terminated,
            "overdue_recorded": overdue,
        },
    )


HANDLERS: dict[str, Handler] = {
    billing_runs.JOB_KIND: bill_run,
    DAILY_ROLL: daily_roll,
}


async def schedule_daily_roll(database: Database, settings: Settings, clock: Clock) -> int:
    """Queue today's roll (Tokyo date) once: the job's (kind, key) is unique, so of many
    workers asking at once one queues it and one carries it out."""
    day = clock.today().isoformat()
    try:
        async with database.sessionmaker.begin() as session:
            if await jobs.find(session, kind=DAILY_ROLL, key=day) is not None:
                return 0
            await jobs.enqueue(session, kind=DAILY_ROLL, key=day, now=clock.now())
    except IntegrityError:
        return 0  # another worker queued it first
    return 1


async def purge_idempotency_keys(database: Database, settings: Settings, clock: Clock) -> int:
    """Delete Idempotency-Keys past ``SCMS_IDEMPOTENCY_TTL_HOURS`` (issue 12 §1)."""
    return await idempotency.purge_expired(database, clock.now())


async def purge_finished_jobs(database: Database, settings: Settings, clock: Clock) -> int:
    """Ended jobs older than SCMS_JOB_RETENTION_DAYS go, a batch at a time."""
    before = clock.now() - timedelta(days=settings.job_retention_days)
    async with database.sessionmaker.begin() as session:
        return await jobs.purge_finished(session, before=before)


async def purge_audit_log(database: Database, settings: Settings, clock: Clock) -> int:
    """The operation log keeps SCMS_AUDIT_RETENTION_DAYS (R-PTN-2, Art. 32.3): the older
    entries go, the chain's anchor moving with them. Hourly: each run finds only the hour's
    newly expired entries, in batches."""
    return await purge_expired(database, clock=clock, retention_days=settings.audit_retention_days)


@dataclass(frozen=True, slots=True)
class Periodic:
    name: str
    every: float  # seconds to wait after a run that found nothing to do
    run: Batch
    # For a task that keeps something between its runs: a context the worker enters once
    # per loop, giving the batch to call instead of ``run`` (the webhook task keeps its
    # HTTP client: a new one per batch cost about 20 ms, httpx building its TLS context,
    # a fifth of a batch under a steady 200 events/s).
    keep: Callable[[], AbstractAsyncContextManager[Batch]] | None = None

    def open(self) -> AbstractAsyncContextManager[Batch]:
        """The batch to run in a loop, within what it keeps for as long as the loop runs."""
        return self.keep() if self.keep is not None else contextlib.nullcontext(self.run)


# Every worker runs each of these in its own loop; one that did something runs again at
# once, one that found nothing waits ``every`` seconds.
PERIODIC: tuple[Periodic, ...] = (
    Periodic("schedule_daily_roll", 60, schedule_daily_roll),
    Periodic("deliver_webhooks", 0.5, deliver_due, keep=delivering),
    Periodic("purge_idempotency_keys", 600, purge_idempotency_keys),
    Periodic("purge_audit_log", 3600, purge_audit_log),
    Periodic("purge_finished_jobs", 3600, purge_finished_jobs),
)
