"""Fan-out: each new event becomes one delivery per enabled endpoint that asked for its type.

Events still to fan out are those without ``dispatched_at`` (a partial index holds only
them). A batch is claimed ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers fanning out
at once take different events; SQLite has one writer at a time anyway. The deliveries and
the mark commit together: an event is fanned out once, whatever order the transactions
that recorded the events committed in (an id or time cursor would skip a late commit).
An endpoint receives the events that happened from its creation on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import new_id
from app.events.models import Event
from app.webhooks.models import WebhookDelivery, WebhookEndpoint

FAN_OUT_BATCH = 1000


async def fan_out(session: AsyncSession, now: datetime, *, limit: int = FAN_OUT_BATCH) -> int:
    """Fan out up to ``limit`` events in the session's transaction; returns how many."""
    events = (
        await session.execute(
            select(Event.id, Event.type, Event.occurred_at)
            .where(Event.dispatched_at.is_(None))
            .order_by(Event.occurred_at, Event.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not events:
        return 0
    endpoints = (
        await session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events, WebhookEndpoint.created_at).where(
                WebhookEndpoint.status == "enabled"
            )
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for event in events:
        for endpoint in endpoints:
            if event.type in endpoint.events and endpoint.created_at <= event.occurred_at:
                rows.append(
                    {
                        "id": new_id("whd"),
                        "endpoint_id": endpoint.id,
                        "event_id": event.id,
                        "event_type": event.type,
                        "event_occurred_at": event.occurred_at,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    await session.execute(
        update(Event)
        .where(Event.id.in_([e.id for e in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(events)
