"""The daily roll the worker schedules: renewals, terminations and ``invoice.overdue``,
each recorded once (issue 12 §2, §5)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.core.jobs import Job
from app.core.settings import Settings
from app.events.models import Event
from app.invoices.overdue import record_overdue
from app.worker.tasks import DAILY_ROLL, schedule_daily_roll
from tests.invoices.receivables_support import example_a_june, monthly_invoice, pay_ok
from tests.support.databases import BoundDatabase
from tests.support.worker import work_off

Headers = dict[str, str]


async def _overdue_events(session: AsyncSession) -> list[Event]:
    return list(
        (
            await session.scalars(
                select(Event).where(Event.type == "invoice.overdue").order_by(Event.id)
            )
        ).all()
    )


async def test_the_days_roll_is_queued_once_and_records_each_overdue_invoice_once(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    session: AsyncSession,
    clock: FixedClock,
    settings: Settings,
) -> None:
    """June's invoice, due 2026-07-31, is overdue on 2026-11-24; July's is paid."""
    contract, june = await example_a_june(client, admin, database, clock)
    july = await monthly_invoice(database, clock, contract, "2026-07")
    july_total = (await client.get(f"/v1/invoices/{july}", headers=admin)).json()["total"]
    await pay_ok(client, admin, july, "2026-08-20", july_total)

    assert await schedule_daily_roll(database, settings, clock) == 1
    assert await schedule_daily_roll(database, settings, clock) == 0  # another worker's turn
    (job,) = (await session.scalars(select(Job).where(Job.kind == DAILY_ROLL))).all()
    assert job.key == "2026-11-24"
    assert await work_off(client) == 1

    (event,) = await _overdue_events(session)
    assert (event.resource_type, event.resource_id) == ("invoice", june)
    assert event.customer_id == contract["customer_id"]
    assert event.data["status"] == "overdue"
    assert event.data == (await client.get(f"/v1/invoices/{june}", headers=admin)).json()

    clock.instant += timedelta(days=1)  # the next day's roll finds nothing new
    assert await schedule_daily_roll(database, settings, clock) == 1
    assert await work_off(client) == 1
    assert len(await _overdue_events(session)) == 1


async def test_an_invoice_not_yet_due_has_no_overdue_event_until_it_is(
    client: httpx.AsyncClient,
    admin: Headers,
    database: BoundDatabase,
    session: AsyncSession,
    clock: FixedClock,
) -> None:
    contract, _ = await example_a_june(client, admin, database, clock)
    october = await monthly_invoice(database, clock, contract, "2026-10")  # due 2026-11-30
    await record_overdue(database, clock.today(), clock)
    assert october not in {e.resource_id for e in await _overdue_events(session)}
    assert await record_overdue(database, date(2026, 11, 30), clock) == 0  # due that day
    assert await record_overdue(database, date(2026, 12, 1), clock) == 1
    assert october in {e.resource_id for e in await _overdue_events(session)}
