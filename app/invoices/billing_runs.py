"""The bill run: one monthly invoice per contract and month, exactly once (R-INV-1).

A run is a row (``billing_runs``) with a status and counters, committed before any work.
It then walks the contracts billing in the month (R-CHG-1) in id order, in batches of
``bill_run_batch_size``, one transaction per batch (app/invoices/billing_batches.py):

1. page the next ids (no lock) and drop those that already have a live monthly invoice
   for the month (counted as ``invoices_existing``);
2. lock the rest ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) and check again for invoices
   committed meanwhile; rows another runner holds are set aside for the final pass;
3. draft each invoice (``drafting.draft_invoice``: recurring lines by the month's price
   book, then its unbilled due ledger charges); a contract whose data breaks a domain
   rule is counted as ``failed`` and logged, and the run goes on;
4. take the invoice numbers (gapless per issue year, R-INV-3) as late as possible, insert
   the invoices and lines in bulk (COPY on PostgreSQL), stamp the ledger charges with
   their invoice — which must stamp exactly the charges drafted, else the batch rolls
   back and is retried — and add the batch's counts to the run, then commit.

Why every contract ends with exactly one correct invoice, and every ledger charge is
billed once, whatever crashes, re-runs or concurrent runners happen:

- **The database decides.** ``UNIQUE (contract_id, monthly_month)`` makes a second monthly
  invoice for a contract and month impossible, whatever the code does; ``number`` is
  unique too, and numbers come from a row-locked counter in the issuing transaction.
- **A batch is atomic.** Its invoices, lines, charge stamps, numbers and run counters
  commit together or not at all: a crash at any point (process killed, connection lost,
  an exception) leaves either the whole batch or nothing, and a rolled-back batch gives
  its numbers back, so the committed numbers stay gapless.
- **Charges are claimed, not copied.** A charge is drafted only while unbilled and is
  stamped ``WHERE invoice_id IS NULL``; if the stamp count differs from the drafted
  count, some other invoice took one, and the batch rolls back and retries on fresh data.
- **Runners partition, they do not collide.** The contract row lock (SKIP LOCKED) gives
  each contract to one runner at a time, and the check for an existing invoice is made
  after the lock is held, so it sees everything committed before. On SQLite the whole
  batch transaction holds the database write lock (BEGIN IMMEDIATE), which serialises
  runners just as well. A lock, or the database lock, also orders the run against
  contract changes: a change either commits before the batch (and is billed) or sees the
  invoice (and may not alter the invoiced month).
- **Re-runs skip, final passes finish.** A re-run (after a crash, or again) skips the
  contracts already invoiced and bills the rest. Contracts skipped because another runner
  held them are taken again at the end with a waiting lock: by then that runner has
  either committed them (they are counted as existing) or died (its transaction was rolled
  back) and this run bills them. So every runner that finishes leaves every billable
  contract invoiced, except the ones counted as ``failed``.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.database import Database
from app.core.errors import NotFound, Unprocessable
from app.core.ids import new_id
from app.core.outage import DatabaseUnavailable, is_database_unavailable
from app.core.settings import Settings
from app.invoices.billing_batches import Progress, Runner, describe
from app.invoices.billing_runs_repository import BillingRunRepository
from app.invoices.issue_dates import issued_on_for, scheduled_issue_on
from app.invoices.models import BillingRun
from app.pricing.calendar import Month

logger = logging.getLogger("scms.billing_runs")

RULE = "R-INV-1"


def check_month_ended(month: Month, today: date) -> None:
    """R-INV-1: a month is invoiced once it is over (its last day is before today)."""
    if month.last_day >= today:
        raise Unprocessable(
            f"{month} has not ended yet (today is {today}); it can be billed from "
            f"{(month + 1).first_day} on.",
            code="month_not_ended",
            rule=RULE,
            month=str(month),
            today=today,
            earliest_run_on=(month + 1).first_day,
        )


async def create_run(
    session: AsyncSession,
    month: Month,
    *,
    dry_run: bool,
    created_by: str,
    clock: Clock,
    settings: Settings,
    issued_on: date | None = None,
) -> BillingRun:
    """Record a new run for ``month`` (status ``running``); the caller commits.

    The run fixes the issue date of its invoices now (issue 9 §1, ``issue_dates``): the
    scheduled issue day when on time, else today, or an explicit ``issued_on`` in between.
    """
    today = clock.today()
    check_month_ended(month, today)
    issued = issued_on_for(month, issued_on, today, settings)
    run = BillingRun(
        id=new_id("run"),
        month=str(month),
        dry_run=dry_run,
        status="running",
        invoices_created=0,
        invoices_existing=0,
        failed=0,
        started_at=clock.now(),
        created_by=created_by,
        issued_on=issued,
        scheduled_issue_on=scheduled_issue_on(month, settings),
    )
    await BillingRunRepository(session).add(run)
    return run


async def get_run(session: AsyncSession, run_id: str) -> BillingRun:
    run = await BillingRunRepository(session).get(run_id)
    if run is None:
        raise NotFound(f"No billing run {run_id}.", code="billing_run_not_found")
    return run


async def execute(
    database: Database,
    run_id: str,
    settings: Settings,
    clock: Clock,
    progress: Progress | None = None,
) -> BillingRun:
    """Carry out a created run to its end; mark it ``finished``, or ``failed`` with the
    error (never raises for a failure inside the run: the run row tells).

    Issue 9 §7: when the database goes away, the run cannot even record that; it logs one
    line (no traceback) and raises ``DatabaseUnavailable``. Re-running the month resumes.
    """
    try:
        return await _execute(database, run_id, settings, clock, progress)
    except Exception as exc:
        if not is_database_unavailable(exc):
            raise
        logger.warning(
            "bill run stopped: the database is unavailable; run the month again to resume",
            extra={"run_id": run_id, "error": describe(exc)[:300]},
        )
        raise DatabaseUnavailable(
            "The database is unavailable: the bill run stopped; run the month again to resume."
        ) from None


async def execute_in_background(
    database: Database, run_id: str, settings: Settings, clock: Clock
) -> None:
    """``execute`` as the API's background task: whatever happens is in the log (one line
    for an outage) and the run row, and nothing is raised to the server to print."""
    try:
        await execute(database, run_id, settings, clock)
    except DatabaseUnavailable:
        pass  # logged by execute
    except Exception:
        logger.exception("bill run could not record its end", extra={"run_id": run_id})


async def _execute(
    database: Database,
    run_id: str,
    settings: Settings,
    clock: Clock,
    progress: Progress | None,
) -> BillingRun:
    async with database.sessionmaker() as session:
        run = await get_run(session, run_id)
    runner = Runner(database, run, settings, clock, progress)
    try:
        await runner.run()
        status, error = "finished", None
    except Exception as exc:  # the run records any failure; a re-run resumes it
        if is_database_unavailable(exc):  # an outage is one line, not a traceback
            logger.warning(
                "bill run interrupted: the database is unavailable",
                extra={"run_id": run_id, "month": run.month, "error": describe(exc)[:300]},
            )
        else:
            logger.exception("bill run failed", extra={"run_id": run_id, "month": run.month})
        status, error = "failed", describe(exc)
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            update(BillingRun)
            .where(BillingRun.id == run_id)
            .values(status=status, error=error, finished_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    async with database.sessionmaker() as session:
        return await get_run(session, run_id)


async def bill_month(
    database: Database,
    month: Month,
    *,
    dry_run: bool,
    settings: Settings,
    clock: Clock,
    created_by: str,
    progress: Progress | None = None,
    issued_on: date | None = None,
) -> BillingRun:
    """Create a run and carry it out (the CLI's and the benchmark's path)."""
    async with database.sessionmaker() as session, session.begin():
        run = await create_run(
            session,
            month,
            dry_run=dry_run,
            created_by=created_by,
            clock=clock,
            settings=settings,
            issued_on=issued_on,
        )
    return await execute(database, run.id, settings, clock, progress)
