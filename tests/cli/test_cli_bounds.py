"""issue 9 §4 on the command line: `scms bill-run --month` and `scms contracts roll
--as-of` refuse a month or date outside the business window before opening the database
(from 2000-01-01; later months than today are refused by the run as not ended)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("month", ["0001-01", "1999-12"])
def test_issue_9_s4_bill_run_refuses_a_month_before_the_window(month: str) -> None:
    result = runner.invoke(app, ["bill-run", "--month", month])
    assert result.exit_code == 2, result.output
    assert "before the business window" in result.output
    assert "2000-01" in result.output


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_issue_9_s4_roll_refuses_a_day_outside_the_window(day: str) -> None:
    result = runner.invoke(app, ["contracts", "roll", "--as-of", day])
    assert result.exit_code == 2, result.output
    assert "use a date from 2000-01-01" in result.output
