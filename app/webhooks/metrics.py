"""/metrics for the webhooks: outbox lag, deliveries by status, attempts by outcome.

The lag and the delivery counts are read from the database when /metrics is scraped
(``refresh``), so an API replica reports what every worker did; the attempt counter is
the delivering process's own.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select

from app.core.clock import Clock
from app.core.database import Database
from app.core.metrics import REGISTRY
from app.events.models import Event
from app.webhooks.models import WebhookDelivery, WebhookEndpoint

OUTBOX_LAG = Gauge(
    "scms_outbox_lag_seconds",
    "Age of the oldest event not yet delivered to every enabled endpoint that asked for it "
    "(0 when none waits).",
    registry=REGISTRY,
)
DELIVERIES = Gauge(
    "scms_webhook_deliveries",
    "Webhook deliveries by status (pending, delivered, failed).",
    ["status"],
    registry=REGISTRY,
)
ATTEMPTS = Counter(
    "scms_webhook_attempts_total",
    "Webhook attempts made by this process, by outcome (delivered, failed, timeout, gone, "
    "refused).",
    ["outcome"],
    registry=REGISTRY,
)
STATUSES = ("pending", "delivered", "failed")


async def oldest_undelivered(database: Database) -> datetime | None:
    """When the oldest event still waiting (to be fanned out, or delivered) happened."""
    async with database.sessionmaker() as session:
        undispatched = await session.scalar(
            select(func.min(Event.occurred_at)).where(Event.dispatched_at.is_(None))
        )
        pending = await session.scalar(
            select(func.min(WebhookDelivery.event_occurred_at))
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "pending", WebhookEndpoint.status == "enabled")
        )
    found = [t for t in (undispatched, pending) if t is not None]
    return min(found) if found else None


async def refresh(database: Database, clock: Clock) -> None:
    oldest = await oldest_undelivered(database)
    OUTBOX_LAG.set(max(0.0, (clock.now() - oldest).total_seconds()) if oldest else 0.0)
    async with database.sessionmaker() as session:
        counts = dict(
            (
                await session.execute(
                    select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
                )
            ).all()
        )
    for status in STATUSES:
        DELIVERIES.labels(status).set(counts.get(status, 0))
