"""`scms bill-run`: the same run from the command line, with a progress bar and a table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from app.cli.main import app
from app.core.clock import FixedClock
from app.core.settings import get_settings
from app.invoices.models import BillingRun, Invoice
from tests.invoices.billing_steps import active_contract
from tests.support.live import LiveApp, live_app

runner = CliRunner()


@pytest.fixture
async def live(db_kind: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[LiveApp]:
    async with live_app(db_kind, tmp_path, clock) as app:
        for _ in range(3):
            await active_contract(app.client, app.admin)
        yield app


@pytest.fixture
def cli_env(live: LiveApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SCMS_DATABASE_URL", live.database.url)
    monkeypatch.setenv("SCMS_BILL_RUN_BATCH_SIZE", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _invoke(*args: str) -> Result:
    # The command runs its own event loop: give it a thread of its own.
    return await asyncio.to_thread(lambda: runner.invoke(app, ["bill-run", *args]))


async def _invoices(live: LiveApp) -> int:
    async with live.database.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Invoice)) or 0)


@pytest.mark.usefixtures("cli_env")
async def test_bill_run_shows_progress_and_a_summary_then_reruns_as_a_no_op(
    live: LiveApp,
) -> None:
    result = await _invoke("--month", "2026-06")
    assert result.exit_code == 0, result.output
    assert "3/3" in result.output  # the progress bar: contracts processed of total
    summary = result.output.splitlines()[-2]
    assert "2026-06" in summary
    assert "finished" in summary
    assert [cell.strip() for cell in summary.split("│")[3:6]] == ["3", "0", "0"]
    async with live.database.sessionmaker() as session:
        run_id = await session.scalar(select(BillingRun.id))
    assert run_id is not None
    assert f"Run {run_id}" in result.output  # whole, to copy into GET /v1/billing-runs/{id}
    assert await _invoices(live) == 3
    again = await _invoke("--month", "2026-06")
    assert again.exit_code == 0, again.output
    assert [cell.strip() for cell in again.output.splitlines()[-2].split("│")[3:6]] == [
        "0",
        "3",
        "0",
    ]
    assert await _invoices(live) == 3


@pytest.mark.usefixtures("cli_env")
async def test_dry_run_stores_nothing(live: LiveApp) -> None:
    result = await _invoke("--month", "2026-07", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "(dry run)" in result.output
    assert await _invoices(live) == 0


@pytest.mark.usefixtures("cli_env")
async def test_a_month_not_ended_or_not_a_month_is_refused(live: LiveApp) -> None:
    result = await _invoke("--month", "2099-01")
    assert result.exit_code == 2
    assert "has not ended yet" in result.output
    bad = await _invoke("--month", "June")
    assert bad.exit_code == 2
    assert "not a month" in bad.output


@pytest.mark.usefixtures("cli_env")
async def test_the_cli_says_the_issue_date_and_when_the_run_is_late_issue_9_s1(
    live: LiveApp,
) -> None:
    """Issue 9 §1, R-INV-1: `--issued-on` dates the invoices; a late run says so; a date
    outside the scheduled issue day to today is refused with the range."""
    wrong = await _invoke("--month", "2026-06", "--issued-on", "2026-06-30")
    assert wrong.exit_code == 2
    assert "2026-07-01" in wrong.output
    assert "issued_on" in wrong.output
    assert await _invoices(live) == 0
    bad = await _invoke("--month", "2026-06", "--issued-on", "July")
    assert bad.exit_code == 2
    assert "not a date" in bad.output
    result = await _invoke("--month", "2026-06", "--issued-on", "2026-07-10")
    assert result.exit_code == 0, result.output
    assert "Late run" in result.output
    assert "2026-07-01" in result.output
    assert "2026-07-10" in result.output
    async with live.database.sessionmaker() as session:
        dates = set(await session.scalars(select(Invoice.issued_on)))
    assert dates == {date(2026, 7, 10)}
