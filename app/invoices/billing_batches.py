"""The batches of a bill run (app/invoices/billing_runs.py says why they bill each
contract once): page the ids billing in the month, lock and re-check them, draft, number,
insert and stamp, one transaction per batch, retried on conflict, in one or two lanes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.charges.repository import ChargeRepository
from app.contracts.billing import billable_ids, billable_in, count_billable
from app.core.clock import Clock
from app.core.database import Database
from app.core.ids import new_id
from app.core.settings import Settings
from app.customers.service import billing_recipients
from app.events.catalogue import EventType
from app.events.outbox import Occurrence, record_many
from app.invoices.billing_runs_repository import BillingRunRepository
from app.invoices.composition import INVOICE_COLUMNS, LINE_COLUMNS, Issuer, compose_rows
from app.invoices.drafting import InvoiceDraft, draft_invoice, due_charges
from app.invoices.issue_dates import due_on, scheduled_issue_on
from app.invoices.issuer import issuer_at_issue
from app.invoices.models import BillingRun, Invoice, InvoiceLine
from app.invoices.numbering import INVOICE_SERIES, allocate
from app.invoices.receivables import issued_data
from app.price_books.service import load_price_books
from app.pricing.calendar import Month
from app.pricing.errors import PricingError
from app.pricing.price_book import PriceBooks

logger = logging.getLogger("scms.billing_runs")

MAX_ATTEMPTS = 5
# unique_violation, serialization_failure, deadlock_detected: another writer got there
# first; the batch is rolled back and retried on fresh data.
_RETRYABLE_SQLSTATES = frozenset({"23505", "40001", "40P01"})

# Called after each batch with (contracts processed, contracts billing in the month).
Progress = Callable[[int, int], None]


class BatchConflict(Exception):
    """Another invoice took a ledger charge this batch drafted; retry the batch."""


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


class Runner:
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
        self.settings = settings
        self.issuer = Issuer(settings.issuer_name, settings.issuer_registration_number)
        self.clock = clock
        self.progress = progress
        self.done = 0
        self.total = 0
        self.books: PriceBooks | None = None
        self.batches = 0
        self.next_analyze = 1

    async def run(self) -> None:
        if not self.dry_run:
            # Issue 14 §4: the issuer's contact and accounts as every invoice of the run
            # states them, written (once) before the first batch refers to them.
            async with self.database.sessionmaker() as session, session.begin():
                self.issuer = await issuer_at_issue(session, self.settings, self.clock)
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
        recipients = await billing_recipients(session, [d.customer_id for d in drafts])
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
                recipient=recipients[draft.customer_id],
                issuer=self.issuer,
                tax_rate_percent=draft.tax_rate_percent,
                lines=draft.lines,
                license_ids=draft.license_ids,
                plan=draft.plan,
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
        await self._publish(session, invoices, lines)

    async def _publish(
        self,
        session: AsyncSession,
        invoices: Sequence[tuple[Any, ...]],
        lines: Sequence[tuple[Any, ...]],
    ) -> None:
        """Issue 12 §2: an ``invoice.issued`` event per invoice, in the batch's own
        transaction, in one bulk statement, built from the rows just written."""
        lines_of: dict[str, list[dict[str, Any]]] = {}
        for row in lines:
            lines_of.setdefault(row[0], []).append(dict(zip(LINE_COLUMNS, row, strict=True)))
        today = self.clock.today()
        occurrences = []
        for row in invoices:
            invoice = dict(zip(INVOICE_COLUMNS, row, strict=True))
            data = issued_data(invoice, lines_of.get(invoice["id"], []), today)
            occurrences.append(Occurrence(invoice["id"], invoice["customer_id"], data))
        await record_many(
            session,
            clock=self.clock,
            type=EventType.INVOICE_ISSUED,
            resource_type="invoice",
            occurrences=occurrences,
        )


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


def describe(exc: BaseException) -> str:
    """The error for the run row; the lanes' task group wraps it, unwrap it."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _RETRYABLE_SQLSTATES
