"""Issue and due dates of invoices (R-INV-1, R-INV-2; issue 9 §1).

An invoice's ``issued_on`` is the day it is issued: a 適格請求書 is never back-dated.

- The month's **scheduled issue day** is ``invoice_issue_day`` of the next month.
- A run **on time** (today on or before the scheduled day) issues on the scheduled day;
  a **late** run issues today. An explicit ``issued_on`` (loading history from a legacy
  system) must lie between the scheduled day and today, both included; on time, the
  scheduled day is the only date allowed.
- The **due date** follows from the issue date: the last day of the issue month plus
  ``invoice_due_month_offset`` months (cancellation invoices: one month more), but never
  sooner than ``invoice_min_days_to_pay`` days after the issue date — otherwise the last
  day of the month after, and so on. So no invoice is due, let alone overdue, on its issue
  day, and late-payment interest (R-CHG-7) can only run from after it.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.core.errors import Unprocessable
from app.core.settings import Settings
from app.pricing.calendar import Month

RULE = "R-INV-1"


def scheduled_issue_on(month: Month, settings: Settings) -> date:
    """The configured issue day of the month after ``month`` (2026-06 → 2026-07-01)."""
    return (month + 1).first_day.replace(day=settings.invoice_issue_day)


def due_on(issued_on: date, settings: Settings, *, extra_months: int = 0) -> date:
    """The due date of an invoice issued on ``issued_on`` (see the module docstring)."""
    earliest = issued_on + timedelta(days=settings.invoice_min_days_to_pay)
    month = Month.of(issued_on) + settings.invoice_due_month_offset + extra_months
    while month.last_day < earliest:
        month += 1
    return month.last_day


def default_issued_on(month: Month, today: date, settings: Settings) -> date:
    """The scheduled issue day when the run is on time, else today."""
    return max(scheduled_issue_on(month, settings), today)


def issued_on_for(month: Month, requested: date | None, today: date, settings: Settings) -> date:
    """The issue date a run of ``month`` started ``today`` uses; an explicit ``requested``
    date outside [scheduled issue day, today] is refused (422 ``issued_on_out_of_range``)."""
    earliest = scheduled_issue_on(month, settings)
    latest = max(earliest, today)
    if requested is None:
        return latest
    if not earliest <= requested <= latest:
        when = "before the scheduled issue day" if requested < earliest else "in the future"
        raise Unprocessable(
            f"issued_on {requested} is {when}: {month}'s invoices are issued from "
            f"{earliest} (the scheduled issue day) to {latest} (today or the scheduled "
            "day, whichever is later); an invoice is never back-dated.",
            code="issued_on_out_of_range",
            rule=RULE,
            field="issued_on",
            month=str(month),
            earliest_issued_on=earliest,
            latest_issued_on=latest,
        )
    return requested


def invoice_dates(month: Month, today: date, settings: Settings) -> tuple[date, date]:
    """(issued_on, due_on) a run of ``month`` started ``today`` would give its invoices."""
    issued_on = default_issued_on(month, today, settings)
    return issued_on, due_on(issued_on, settings)
