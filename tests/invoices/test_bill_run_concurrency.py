"""Exactly once under concurrent runners, crashes and conflicts (R-INV-1, R-INV-3).

On a live database where every batch really commits: several runners at once (on
PostgreSQL they share the contracts with FOR UPDATE SKIP LOCKED, on SQLite they queue on
the write lock), a run that dies half-way and is run again, a batch that conflicts and is
retried. Each ends with one invoice per contract, gapless numbers and every ledger
charge billed once.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.charges.models import Charge
from app.charges.repository import ChargeRepository
from app.core.clock import FixedClock
from app.core.settings import Settings
from app.invoices import billing_runs
from app.invoices.models import BillingRun, Invoice, InvoiceLine
from app.pricing.calendar import Month
from tests.invoices.billing_steps import active_contract, example_b
from tests.support.live import LiveApp, live_app

JUNE = Month(2026, 6)
CONTRACTS = 7


@pytest.fixture
async def live(db_kind: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[LiveApp]:
    async with live_app(db_kind, tmp_path, clock) as app:
        for n in range(CONTRACTS):
            if n % 3 == 0:
                await example_b(app.client, app.admin)
            else:
                await active_contract(app.client, app.admin)
        yield app


def _settings(live: LiveApp, batch_size: int = 2) -> Settings:
    return Settings(database_url=live.database.url, bill_run_batch_size=batch_size)


async def _bill(live: LiveApp, clock: FixedClock, batch_size: int = 2) -> BillingRun:
    return await billing_runs.bill_month(
        live.database,
        JUNE,
        dry_run=False,
        settings=_settings(live, batch_size),
        clock=clock,
        created_by="test",
    )


async def _assert_exactly_once(live: LiveApp) -> None:
    """One invoice per contract, numbers 1..N, every charge on exactly one invoice line."""
    async with live.database.sessionmaker() as session:
        invoices = (await session.execute(select(Invoice.contract_id, Invoice.number))).all()
        assert len(invoices) == CONTRACTS
        assert len({contract for contract, _ in invoices}) == CONTRACTS
        numbers = sorted(int(number.rsplit("-", 1)[1]) for _, number in invoices)
        assert numbers == list(range(1, CONTRACTS + 1))
        charges = (await session.execute(select(Charge.id, Charge.invoice_id))).all()
        assert charges
        assert all(invoice_id is not None for _, invoice_id in charges)
        billed = (
            await session.execute(
                select(InvoiceLine.charge_id, InvoiceLine.invoice_id).where(
                    InvoiceLine.charge_id.is_not(None)
                )
            )
        ).all()
        assert sorted(billed) == sorted(charges)
        line_totals = await session.scalar(select(func.sum(InvoiceLine.amount)))
        invoice_totals = await session.scalar(
            select(func.sum(Invoice.taxable_subtotal + Invoice.non_taxable_subtotal))
        )
        assert line_totals == invoice_totals


async def test_concurrent_runners_issue_each_invoice_once_with_gapless_numbers(
    live: LiveApp, clock: FixedClock
) -> None:
    runs = await asyncio.gather(*(_bill(live, clock) for _ in range(4)))
    assert {r.status for r in runs} == {"finished"}
    assert sum(r.invoices_created for r in runs) == CONTRACTS
    for run in runs:
        # Every runner accounts for every contract: its own or found invoiced.
        assert run.invoices_created + run.invoices_existing == CONTRACTS
        assert run.failed == 0
    await _assert_exactly_once(live)


async def test_a_run_that_dies_after_its_first_batch_is_completed_by_the_next(
    live: LiveApp, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash inside the second batch, after its invoices are written but before it
    commits: the first batch stays, the second leaves nothing (its numbers too)."""
    stamp = ChargeRepository.mark_billed_many
    calls = 0

    async def crash_on_second_batch(self: ChargeRepository, *args: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionResetError("the runner's machine went away")
        return await stamp(self, *args)

    monkeypatch.setattr(ChargeRepository, "mark_billed_many", crash_on_second_batch)
    crashed = await _bill(live, clock)
    assert crashed.status == "failed"
    assert crashed.error is not None
    assert "ConnectionResetError" in crashed.error
    assert (crashed.invoices_created, crashed.finished_at is not None) == (2, True)
    async with live.database.sessionmaker() as session:
        numbers = (await session.scalars(select(Invoice.number).order_by(Invoice.number))).all()
    assert numbers == ["INV-2026-0000001", "INV-2026-0000002"]

    monkeypatch.setattr(ChargeRepository, "mark_billed_many", stamp)
    resumed = await _bill(live, clock)
    assert resumed.status == "finished"
    assert (resumed.invoices_created, resumed.invoices_existing) == (CONTRACTS - 2, 2)
    await _assert_exactly_once(live)


async def test_a_run_killed_between_batches_is_resumed_by_a_rerun(
    live: LiveApp, clock: FixedClock
) -> None:
    """A cancelled task stands for a killed process: its row stays ``running``, its
    committed batches stay, and a re-run bills the rest."""
    task: asyncio.Task[BillingRun] | None = None

    def kill_after_first_batch(done: int, total: int) -> None:
        if done > 0 and task is not None:
            task.cancel()

    task = asyncio.ensure_future(
        billing_runs.bill_month(
            live.database,
            JUNE,
            dry_run=False,
            settings=_settings(live),
            clock=clock,
            created_by="test",
            progress=kill_after_first_batch,
        )
    )
    with pytest.raises(asyncio.CancelledError):
        await task
    async with live.database.sessionmaker() as session:
        (killed,) = (await session.scalars(select(BillingRun))).all()
    # On PostgreSQL a second lane may commit its batch before the cancellation lands:
    # what matters is that whole batches, and only they, were committed.
    assert killed.status == "running"
    assert 0 < killed.invoices_created < CONTRACTS
    assert killed.invoices_created % 2 == 0
    resumed = await _bill(live, clock)
    assert resumed.status == "finished"
    assert (resumed.invoices_created, resumed.invoices_existing) == (
        CONTRACTS - killed.invoices_created,
        killed.invoices_created,
    )
    await _assert_exactly_once(live)


async def test_a_batch_whose_charges_were_taken_meanwhile_is_retried(
    live: LiveApp, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mark_billed must stamp exactly the charges drafted; a short count rolls the batch
    back (numbers included) and retries it on fresh data."""
    stamp = ChargeRepository.mark_billed_many
    calls = 0

    async def short_first_time(self: ChargeRepository, *args: Any) -> int:
        nonlocal calls
        calls += 1
        stamped = await stamp(self, *args)
        return stamped - 1 if calls == 1 else stamped

    monkeypatch.setattr(ChargeRepository, "mark_billed_many", short_first_time)
    run = await _bill(live, clock, batch_size=100)
    assert (run.status, run.invoices_created) == ("finished", CONTRACTS)
    assert calls == 2
    await _assert_exactly_once(live)


@pytest.mark.postgres_only
async def test_two_runner_processes_started_together_bill_each_contract_once(
    db_kind: str, live: LiveApp
) -> None:
    """Two `scms bill-run` processes on PostgreSQL, started at the same moment."""
    if db_kind != "postgres":
        pytest.skip("several processes at once: PostgreSQL")
    env = {
        **os.environ,
        "SCMS_DATABASE_URL": live.database.url,
        "SCMS_BILL_RUN_BATCH_SIZE": "2",
        "SCMS_LOG_LEVEL": "WARNING",
    }
    scms = [sys.executable, "-m", "app.cli.main", "bill-run", "--month", "2026-06"]
    runners = [
        subprocess.Popen(scms, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [await asyncio.to_thread(r.communicate, timeout=120) for r in runners]
    assert [r.returncode for r in runners] == [0, 0], outputs
    async with live.database.sessionmaker() as session:
        runs = (await session.scalars(select(BillingRun))).all()
    assert sum(r.invoices_created for r in runs) == CONTRACTS
    assert all(r.invoices_created + r.invoices_existing == CONTRACTS for r in runs)
    await _assert_exactly_once(live)
