"""Moving the sandbox clock forward: each day passed does what that day would have done.

For every day from tomorrow to the target, in order: the daily roll as of that day
(renewals, terminations, and whatever else the application hands in as a day's work),
then, on the scheduled issue day of a month, that month's bill run (issued on that day,
as on time). Only then does the clock move to that day, by a compare-and-set on the
stored offset, in its own commit. So the clock never shows a day whose work is not done:
a failure stops the move at the last finished day, and moving again redoes the failed day
(every step is idempotent: the roll records what is missing, a bill run skips invoiced
contracts, R-INV-1). Two moves at once: the second to reach a day it did not claim stops
with 409; what it did is what the first did too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta

from app.core.clock import Clock
from app.core.database import Database
from app.core.errors import Conflict
from app.core.settings import Settings
from app.endings.rolling import roll
from app.invoices.billing_runs import bill_month
from app.invoices.issue_dates import scheduled_issue_on
from app.invoices.overdue import record_overdue
from app.pricing.calendar import Month
from app.sandbox.clock import OffsetClock, claim_offset, offset_in

SANDBOX_ACTOR = "system:sandbox"

# A day's work: (database, the day, a clock standing on it, settings) -> counts by kind.
DayStep = Callable[[Database, date, Clock, Settings], Awaitable[Counter[str]]]


class SandboxClockMoved(Conflict):
    code, title = "sandbox_clock_moved", "Another move of the sandbox clock got there first"


class BillRunFailed(Conflict):
    code, title = "sandbox_bill_run_failed", "A bill run on the way failed; the clock stopped"


async def daily_roll(database: Database, day: date, clock: Clock, _: Settings) -> Counter[str]:
    """The worker's daily roll as of ``day``: renewals, terminations, overdue invoices."""
    result = await roll(database, day, clock)
    overdue = await record_overdue(database, day, clock)
    return Counter(
        renewals=result.renewed, terminations=result.terminated, invoices_overdue=overdue
    )


async def scheduled_bill_run(
    database: Database, day: date, clock: Clock, settings: Settings
) -> Counter[str]:
    """The bill run of the month whose scheduled issue day this is, if any."""
    month = Month.of(day) - 1
    if scheduled_issue_on(month, settings) != day:
        return Counter()
    run = await bill_month(
        database, month, dry_run=False, settings=settings, clock=clock, created_by=SANDBOX_ACTOR
    )
    if run.status != "finished":
        raise BillRunFailed(
            f"The bill run of {month} on {day} ended {run.status}: {run.error}. The clock "
            f"stays on {day - timedelta(days=1)}; move it again to retry.",
            billing_run_id=run.id,
            month=str(month),
        )
    return Counter(billing_runs=1, invoices_issued=run.invoices_created)


DAY_STEPS: tuple[DayStep, ...] = (daily_roll, scheduled_bill_run)


async def advance(
    database: Database,
    settings: Settings,
    base: Clock,
    target: date,
    steps: Sequence[DayStep] = DAY_STEPS,
) -> tuple[OffsetClock, Counter[str]]:
    """Move the sandbox from its today to ``target`` (>= today; the caller checked),
    day by day. Returns the clock standing on ``target`` and what happened."""
    async with database.sessionmaker() as session:
        offset = await offset_in(session)
    happened: Counter[str] = Counter()
    clock = OffsetClock(base, offset)
    while clock.today() < target:
        day_clock = OffsetClock(base, clock.offset_days + 1)
        day = day_clock.today()
        for step in steps:
            happened.update(await step(database, day, day_clock, settings))
        async with database.sessionmaker.begin() as session:
            claimed = await claim_offset(
                session, clock.offset_days, day_clock.offset_days, day_clock.now()
            )
        if not claimed:
            raise SandboxClockMoved(
                f"The sandbox clock was moved by someone else while moving to {target}; "
                "read it again.",
                stopped_on=str(clock.today()),
            )
        happened["days"] += 1
        clock = day_clock
    return clock, happened
