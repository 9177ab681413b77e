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

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.clock import Clock
from app.core.database import Database
from app.core.errors import NotFound, Unprocessable
from app.core.ids import new_id
from app.core.outage import DatabaseUnavailable, is_database_unavailable
from app.core.settings import Settings
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.invoices.billing_batches import Progress, Runner, describe
from app.invoices.billing_runs_repository import BillingRunRepository
from app.invoices.billing_schemas import BillingRunRead
from app.invoices.issue_dates import issued_on_for, scheduled_issue_on
from app.invoices.models import BillingRun, Invoice
from app.pricing.calendar import Month

logger = logging.getLogger("scms.billing_runs")

RULE = "R-INV-1"
# The job kind of a bill run asked for over the API: a worker carries it out (issue 12 §5).
JOB_KIND = "bill_run"


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
    status: str = "running",
) -> BillingRun:
    """Record a new run for ``month`` (status ``running``, or ``queued`` for a worker);
    the caller commits.

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
        status=status,
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


async def request_run(
    session: AsyncSession,
    month: Month,
    *,
    dry_run: bool,
    created_by: str,
    clock: Clock,
    settings: Settings,
    issued_on: date | None = None,
) -> tuple[BillingRun, bool]:
    """The API's bill run: a new ``queued`` run and its job, in the caller's transaction,
    for a worker to carry out; or the month's run that is queued or running already
    (issue 12 §5), and False. Checked under a lock on the month (PostgreSQL: an advisory
    lock; SQLite: the write lock every transaction takes), so two requests at once
    start one run."""
    check_month_ended(month, clock.today())
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
            {"name": f"billing_run:{month}:{dry_run}"},
        )
    active = await session.scalar(
        select(BillingRun)
        .join(jobs.Job, (jobs.Job.kind == JOB_KIND) & (jobs.Job.key == BillingRun.id))
        .where(
            BillingRun.month == str(month),
            BillingRun.dry_run == dry_run,
            BillingRun.status.in_(("queued", "running")),
            jobs.Job.state.in_((jobs.QUEUED, jobs.RUNNING)),
        )
        .order_by(BillingRun.id.desc())
        .limit(1)
    )
    if active is not None:
        return active, False
    run = await create_run(
        session,
        month,
        dry_run=dry_run,
        created_by=created_by,
        clock=clock,
        settings=settings,
        issued_on=issued_on,
        status="queued",
    )
    await jobs.enqueue(session, kind=JOB_KIND, key=run.id, now=clock.now())
    return run, True


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
    *,
    own_before: int = 0,
) -> BillingRun:
    """Carry out a created run to its end; mark it ``finished``, or ``failed`` with the
    error (never raises for a failure inside the run: the run row tells), and record the
    ``billing_run.finished`` event with that end (issue 12 §5).

    Issue 9 §7: when the database goes away, the run cannot even record that; it logs one
    line (no traceback) and raises ``DatabaseUnavailable``. Re-running the month resumes.
    """
    try:
        return await _execute(database, run_id, settings, clock, progress, own_before)
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


async def carry_out(
    database: Database, run_id: str, settings: Settings, clock: Clock
) -> BillingRun | None:
    """A worker's job: start a queued run, or resume one a killed worker left ``running``
    (issue 12 §5); None when the run had already ended (the worker died after it).

    A resumed run keeps the invoices it issued and its count of them; the rest of its
    counters start again, since the resumed pass counts every invoiced contract anew.
    Its own earlier invoices are then among the ones it finds issued, and are taken
    back out of ``invoices_existing`` at the end. Raises ``DatabaseUnavailable`` (the
    job is retried).
    """
    async with database.sessionmaker() as session, session.begin():
        run = await session.get(BillingRun, run_id, with_for_update=True)
        if run is None or run.status in ("finished", "failed"):
            return None
        own = 0
        if not run.dry_run:
            own = int(
                await session.scalar(
                    select(func.count())
                    .select_from(Invoice)
                    .where(Invoice.billing_run_id == run_id)
                )
                or 0
            )
        if run.status == "running":
            logger.warning(
                "bill run resumed after its worker stopped",
                extra={"run_id": run_id, "month": run.month, "invoices_created": own},
            )
        run.status, run.error, run.finished_at = "running", None, None
        run.invoices_created, run.invoices_existing, run.failed = own, 0, 0
    return await execute(database, run_id, settings, clock, own_before=own)


async def _execute(
    database: Database,
    run_id: str,
    settings: Settings,
    clock: Clock,
    progress: Progress | None,
    own_before: int,
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
            .values(
                status=status,
                error=error,
                finished_at=clock.now(),
                invoices_existing=BillingRun.invoices_existing - own_before,
            )
            .execution_options(synchronize_session=False)
        )
        ended = await get_run(session, run_id)
        await record_event(
            session,
            clock=clock,
            type=EventType.BILLING_RUN_FINISHED,
            resource_type="billing_run",
            resource_id=run_id,
            data=BillingRunRead.of(ended),
            customer_id=None,
        )
    return ended


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
