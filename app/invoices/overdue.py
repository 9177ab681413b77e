"""``invoice.overdue``: recorded once per invoice, by the daily roll, when its due date has
passed with a balance left (API.md "Events", issue 12 §2).

An invoice's ``overdue`` status is derived on read (app/invoices/receivables.py); the
event is what tells a client it happened. Once: the invoices are locked in batches, and
the check for an existing ``invoice.overdue`` event is made after the lock is held, in a
statement of its own, so it sees every event committed before; the event and the check
share the batch's transaction. A roll killed half-way, or run twice, records the rest.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.core.clock import Clock
from app.core.database import Database
from app.events.catalogue import EventType
from app.events.models import Event
from app.events.outbox import record_event
from app.invoices import receivables
from app.invoices.models import Invoice

BATCH = 200


async def record_overdue(database: Database, today: date, clock: Clock) -> int:
    """Record ``invoice.overdue`` for each invoice overdue on ``today`` that has none;
    how many were recorded."""
    recorded, after = 0, ""
    while True:
        async with database.sessionmaker.begin() as session:
            batch = list(
                (
                    await session.scalars(
                        select(Invoice)
                        .where(
                            Invoice.status == "issued",
                            Invoice.due_on < today,
                            Invoice.id > after,
                        )
                        .order_by(Invoice.id)
                        .limit(BATCH)
                        .with_for_update()
                    )
                ).all()
            )
            if not batch:
                return recorded
            after = batch[-1].id
            told = set(
                (
                    await session.scalars(
                        select(Event.resource_id).where(
                            Event.type == EventType.INVOICE_OVERDUE.value,
                            Event.resource_id.in_([i.id for i in batch]),
                        )
                    )
                ).all()
            )
            for invoice in batch:
                if invoice.id in told:
                    continue
                view = await receivables.view_of(session, invoice)
                read = receivables.to_read(view, today)
                if read.status != "overdue":
                    continue  # paid off by credit notes: no balance left
                await record_event(
                    session,
                    clock=clock,
                    type=EventType.INVOICE_OVERDUE,
                    resource_type="invoice",
                    resource_id=invoice.id,
                    data=read,
                    customer_id=invoice.customer_id,
                )
                recorded += 1
