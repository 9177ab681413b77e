"""The bill run: one monthly invoice per contract and month, exactly once (R-INV-1).

A run is a row (``billing_runs``) with a status and counters, committed before any work.
It then walks the contracts billing in the month (R-CHG-1) in id order, in batches of
``bill_run_batch_size``, one transaction per batch:

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

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.charges.repository import ChargeRepository
from app.contracts.billing import billable_ids, billable_in, count_billable
from app.core.clock import Clock
from app.core.database import Database
from app.core.errors import NotFound, Unprocessable
from app.core.ids import new_id
from app.core.outage import DatabaseUnavailable, is_database_unavailable
from app.core.settings import Settings
from app.customers.service import billing_names
from app.invoices.billing_runs_repository import BillingRunRepository
from app.invoices.composition import INVOICE_COLUMNS, LINE_COLUMNS, Issuer, compose_rows
from app.invoices.drafting import InvoiceDraft, draft_invoice, due_charges
from app.invoices.issue_dates import due_on, issued_on_for, scheduled_issue_on
from app.invoices.models import BillingRun, Invoice, InvoiceLine
from app.invoices.numbering import INVOICE_SERIES, allocate
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.errors import PricingError
from app.pricing.price_book import PriceBooks

logger = logging.getLogger("scms.billing_runs")

RULE = "R-INV-1"
MAX_ATTEMPTS = 5
# unique_violation, serialization_failure, deadlock_detected: another writer got there
# first; the batch is rolled back and retried on fresh data.
_RETRYABLE_SQLSTATES = frozenset({"23505", "40001", "40P01"})

# Called after each batch with (contracts processed, contracts billing in the month).
Progress = Callable[[int, int], None]


class BatchConflict(Exception):
    """Another invoice took a ledger charge this batch drafted; retry the batch."""


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
            extra={"run_id": run_id, "error": _describe(exc)[:300]},
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
    runner = _Runner(database, run, settings, clock, progress)
    try:
        await runner.run()
        status, error = "finished", None
    except Exception as exc:  # the run records any failure; a re-run resumes it
        if is_database_unavailable(exc):  # an outage is one line, not a traceback
            logger.warning(
                "bill run interrupted: the database is unavailable",
                extra={"run_id": run_id, "month": run.month, "error": _describe(exc)[:300]},
            )
        else:
            logger.exception("bill run failed", extra={"run_id": run_id, "month": run.month})
        status, error = "failed", _describe(exc)
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


class _Pages:
    """The ids billing in the month, batch after batch in id order, for any number of
    lanes. Ids are read ahead several batches at a time (cheap: one index scan)."""

    READ_AHEAD = 10

    def __init__(self, database: Database, month: Month, size: int) -> None:
        self.database, self.month, self.size = database, month, size
        self.after_id: str | None = None
        self.done = False
        self.ahead: list[str] = []
        self.lock = asyncio.Lock()

    async def next(self) -> list[str]:
        async with self.lock:
            if not self.ahead and not self.done:
                async with self.database.sessionmaker() as session:
                    self.ahead = await billable_ids(
                        session,
                        self.month,
                        after_id=self.after_id,
                        limit=self.size * self.READ_AHEAD,
                    )
                if self.ahead:
                    self.after_id = self.ahead[-1]
                else:
                    self.done = True
            ids, self.ahead = self.ahead[: self.size], self.ahead[self.size :]
            return ids


def _lanes(database: Database) -> int:
    """2 on PostgreSQL with a pool; 1 on SQLite (one writer at a time anyway) or when the
    sessions share a single connection (the tests' rolled-back transaction)."""
    bind = database.sessionmaker.kw.get("bind")
    if isinstance(bind, AsyncConnection) or database.engine.dialect.name != "postgresql":
        return 1
    return 2


@dataclass
class _BatchResult:
    created: int = 0
    existing: int = 0
    failed: int = 0
    skipped: list[str] = field(default_factory=list)


class _Runner:
    def __init__(
        self,
        database: Database,
        run: BillingRun,
        settings: Settings,
        clock: Clock,
        progress: Progress | None,
    ) -> None:
        self.database = database
        self.run_id = run.id
        self.month = Month.parse(run.month)
        self.dry_run = run.dry_run
        self.batch_size = settings.bill_run_batch_size
        # Fixed when the run was created; a run created before runs stored their issue
        # date (migration 0006) resumes on the scheduled day, as it began.
        self.issued_on = run.issued_on or scheduled_issue_on(self.month, settings)
        self.due_on = due_on(self.issued_on, settings)
        self.issuer = Issuer(settings.issuer_name, settings.issuer_registration_number)
        self.clock = clock
        self.progress = progress
        self.done = 0
        self.total = 0
        self.books: PriceBooks | None = None
        self.batches = 0
        self.next_analyze = 1

    async def run(self) -> None:
        async with self.database.sessionmaker() as session:
            self.books = await load_price_books(session)
            self.total = await count_billable(session, self.month)
            invoiced = await BillingRunRepository(session).count_invoiced(self.month)
        if self.progress:
            self.progress(0, self.total)
        if invoiced == self.total > 0 and not self.dry_run:
            # Every contract billing in the month has its invoice already (the count is of
            # billing contracts with an invoice): a pure re-run costs two queries.
            async with self.database.sessionmaker() as session, session.begin():
                await BillingRunRepository(session).add_counts(
                    self.run_id, created=0, existing=self.total, failed=0
                )
            self.done = self.total
            if self.progress:
                self.progress(self.done, self.total)
            return
        skipped: list[str] = []
        pages = _Pages(self.database, self.month, self.batch_size)

        async def lane() -> None:
            while ids := await pages.next():
                skipped.extend(await self._batch(ids, wait=False))

        # Two lanes on PostgreSQL: one drafts a batch while the other's is being written.
        async with asyncio.TaskGroup() as lanes:
            for _ in range(_lanes(self.database)):
                lanes.create_task(lane())
        # The final pass: contracts another runner held. Wait for it to commit or die.
        skipped.sort()
        for start in range(0, len(skipped), self.batch_size):
            await self._batch(skipped[start : start + self.batch_size], wait=True)

    async def _batch(self, ids: Sequence[str], *, wait: bool) -> list[str]:
        """Bill ``ids`` in one transaction, retried on a conflict; returns the ids left
        to the final pass because another runner held them."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.database.sessionmaker() as session, session.begin():
                    result = await self._bill(session, ids, wait=wait)
                    await BillingRunRepository(session).add_counts(
                        self.run_id,
                        created=result.created,
                        existing=result.existing,
                        failed=result.failed,
                    )
                break
            except (BatchConflict, DBAPIError) as exc:
                if isinstance(exc, DBAPIError) and not _retryable(exc):
                    raise
                if attempt == MAX_ATTEMPTS:
                    raise
                logger.warning(
                    "bill run batch conflict, retrying",
                    extra={"run_id": self.run_id, "attempt": attempt, "error": str(exc)[:200]},
                )
        self.done += len(ids) - len(result.skipped)
        if result.created and not self.dry_run:
            await self._refresh_statistics()
        if self.progress:
            self.progress(self.done, self.total)
        return result.skipped

    async def _refresh_statistics(self) -> None:
        """ANALYZE the invoice tables after this runner's 1st, 4th, 16th, … batch.

        A run may grow them from (almost) nothing to hundreds of thousands of rows, and
        PostgreSQL keeps cached plans made for their old size, above all each connection's
        foreign-key checks (``invoice_lines`` → ``invoices``): planned while the table was
        tiny, they scan it for every line inserted. Fresh statistics replace those plans;
        it is the usual "ANALYZE after a bulk load", done as the load goes.
        """
        self.batches += 1
        if self.batches != self.next_analyze or self.database.engine.dialect.name != "postgresql":
            return
        self.next_analyze *= 4
        async with self.database.sessionmaker() as session, session.begin():
            await session.execute(text("ANALYZE invoices, invoice_lines"))

    async def _bill(self, session: AsyncSession, ids: Sequence[str], *, wait: bool) -> _BatchResult:
        month, runs = self.month, BillingRunRepository(session)
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            # The invoices table may grow from nothing during a run: plan the existence
            # checks for the table as it is now, not with a generic plan cached when it
            # was empty (a sequential scan per batch). Back to normal before the inserts,
            # whose foreign-key checks should keep their cached plans.
            await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        existing = await runs.invoiced(ids, str(month))
        result = _BatchResult(existing=len(existing))
        todo = [i for i in ids if i not in existing]
        if not todo:
            return result
        errors: dict[str, PricingError] = {}
        subjects = await billable_in(
            session,
            month,
            ids=todo,
            limit=len(todo),
            lock=not self.dry_run,
            skip_locked=not wait,
            on_error=errors.__setitem__,
        )
        held = {s.contract_id for s in subjects} | errors.keys()
        if not wait:
            result.skipped = [i for i in todo if i not in held]
        if subjects and not self.dry_run:
            # Invoices committed between the first check and the lock.
            late = await runs.invoiced([s.contract_id for s in subjects], str(month))
            if late:
                result.existing += len(late)
                subjects = [s for s in subjects if s.contract_id not in late]
        if postgres:
            await session.execute(text("SET LOCAL plan_cache_mode TO DEFAULT"))
        charges = await due_charges(session, [s.contract_id for s in subjects], month)
        assert self.books is not None
        drafts: list[InvoiceDraft] = []
        for subject in subjects:
            try:
                drafts.append(
                    draft_invoice(subject, month, self.books, charges.get(subject.contract_id, ()))
                )
            except PricingError as exc:
                errors[subject.contract_id] = exc
        for contract_id, error in errors.items():
            logger.warning(
                "bill run: contract not billed",
                extra={
                    "run_id": self.run_id,
                    "contract_id": contract_id,
                    "month": str(month),
                    "code": error.code,
                    "rule": error.rule,
                    "error": str(error),
                },
            )
        result.failed = len(errors)
        result.created = len(drafts)
        if drafts and not self.dry_run:
            await self._issue(session, drafts)
        return result

    async def _issue(self, session: AsyncSession, drafts: Sequence[InvoiceDraft]) -> None:
        recipients = await billing_names(session, [d.customer_id for d in drafts])
        now = self.clock.now()
        invoices: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        stamps: dict[str, str] = {}
        month = str(self.month)
        for draft in drafts:
            invoice_id = new_id("inv")
            invoice, rows = compose_rows(
                invoice_id=invoice_id,
                number="",  # given below, as late as possible
                contract_id=draft.contract_id,
                customer_id=draft.customer_id,
                kind="monthly",
                month=month,
                issued_on=self.issued_on,
                due_on=self.due_on,
                recipient_name=recipients[draft.customer_id],
                issuer=self.issuer,
                tax_rate_percent=draft.tax_rate_percent,
                lines=draft.lines,
                billing_run_id=self.run_id,
                created_at=now,
                sums=draft.totals,
            )
            invoices.append(invoice)
            lines += rows
            for charge_id in draft.charge_ids:
                stamps[charge_id] = invoice_id
        # R-INV-3: the counter row stays locked from here to the commit.
        numbers = await allocate(session, INVOICE_SERIES, self.issued_on.year, len(invoices))
        invoices = [(i[0], n, *i[2:]) for i, n in zip(invoices, numbers, strict=True)]
        await _insert(session, invoices, lines)
        stamped = await ChargeRepository(session).mark_billed_many(stamps, now)
        if stamped != len(stamps):
            raise BatchConflict(f"{len(stamps) - stamped} ledger charges were billed meanwhile")


async def _insert(
    session: AsyncSession, invoices: list[tuple[Any, ...]], lines: list[tuple[Any, ...]]
) -> None:
    """Insert the rows in bulk: COPY on PostgreSQL, one executemany each on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table("invoices", records=invoices, columns=INVOICE_COLUMNS)
        await driver.copy_records_to_table("invoice_lines", records=lines, columns=LINE_COLUMNS)
        return
    invoice_table = cast(Table, Invoice.__table__)
    line_table = cast(Table, InvoiceLine.__table__)
    await session.execute(
        insert(invoice_table), [dict(zip(INVOICE_COLUMNS, r, strict=True)) for r in invoices]
    )
    if lines:
        await session.execute(
            insert(line_table), [dict(zip(LINE_COLUMNS, r, strict=True)) for r in lines]
        )


def _describe(exc: BaseException) -> str:
    """The error for the run row; the lanes' task group wraps it, unwrap it."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _RETRYABLE_SQLSTATES
