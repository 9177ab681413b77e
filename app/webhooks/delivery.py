"""Delivering events to webhook endpoints: at least once, retried, never in a promised order.

:func:`deliver_due` is one batch, for the worker to call in a loop:

1. fan out new events into deliveries (app/webhooks/fanout.py), in one transaction;
2. claim the due deliveries of enabled endpoints, ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, by setting a lease (``SCMS_WEBHOOK_LEASE_SECONDS``), and commit: other
   workers skip them until the lease expires, so a killed worker's batch is taken over;
3. send them, ``SCMS_WEBHOOK_CONCURRENCY`` at a time, outside any transaction;
4. record every outcome in one transaction: a 2xx is delivered; anything else is tried
   again after the next of ``SCMS_WEBHOOK_RETRY_DELAYS``, then ``failed`` (kept for a
   manual retry); a 410 disables the endpoint; an endpoint that has failed everything for
   5 days is disabled too, with a ``webhook_endpoint.disabled`` event.

A crash between 3 and 4 sends the batch again once the lease expires: at least once,
which is why the ``webhook-id`` (the event id) is there for receivers to dedupe on.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.database import Database
from app.core.settings import Settings
from app.events.models import Event
from app.webhooks import signing
from app.webhooks.fanout import fan_out
from app.webhooks.metrics import ATTEMPTS
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.sender import Attempt, new_client, secrets_in_force, send
from app.webhooks.service import disable_endpoint

if TYPE_CHECKING:
    import httpx

DISABLE_AFTER = timedelta(days=5)


@dataclass(frozen=True)
class _Claimed:
    delivery_id: str
    attempts: int
    endpoint_id: str
    url: str
    signing_secrets: list[str]
    event_id: str
    content: str


async def deliver_due(
    database: Database,
    settings: Settings,
    clock: Clock,
    *,
    client: httpx.AsyncClient | None = None,
) -> int:
    """Fan out new events, then attempt one batch of due deliveries.

    Returns how many deliveries it attempted: 0 when none was due (the caller may sleep).
    ``client`` lets a long-running loop keep its connections; by default one is made for
    the batch.
    """
    async with database.sessionmaker() as session:
        await fan_out(session, clock.now())
        await session.commit()
    claimed = await _claim(database, settings, clock.now())
    if not claimed:
        return 0
    if client is None:
        async with new_client() as own:
            results = await _send_all(own, claimed, settings, clock)
    else:
        results = await _send_all(client, claimed, settings, clock)
    async with database.sessionmaker() as session:
        await _record(session, results, settings, clock)
        await session.commit()
    for _, attempt in results:
        ATTEMPTS.labels(attempt.outcome).inc()
    return len(claimed)


@asynccontextmanager
async def delivering() -> AsyncIterator[Callable[[Database, Settings, Clock], Awaitable[int]]]:
    """:func:`deliver_due` with one HTTP client kept for as long as the caller loops
    (the worker's delivery loop), not built again per batch: httpx loads its TLS context
    for each client, about 20 ms. (Connections are still not reused: the sender never
    reads a body, app/webhooks/sender.py.)"""
    async with new_client() as client:
        yield functools.partial(deliver_due, client=client)


async def _claim(database: Database, settings: Settings, now: datetime) -> list[_Claimed]:
    async with database.sessionmaker() as session:
        ids = list(
            (
                await session.scalars(
                    select(WebhookDelivery.id)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= now,
                        or_(
                            WebhookDelivery.lease_expires_at.is_(None),
                            WebhookDelivery.lease_expires_at <= now,
                        ),
                        WebhookEndpoint.status == "enabled",
                    )
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                    .limit(settings.webhook_batch_size)
                    .with_for_update(skip_locked=True, of=WebhookDelivery)
                )
            ).all()
        )
        if not ids:
            await session.commit()
            return []
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(lease_expires_at=now + timedelta(seconds=settings.webhook_lease_seconds))
            .execution_options(synchronize_session=False)
        )
        rows = (
            await session.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.attempts,
                    WebhookEndpoint.id.label("endpoint_id"),
                    WebhookEndpoint.url,
                    WebhookEndpoint.secret,
                    WebhookEndpoint.previous_secret,
                    WebhookEndpoint.previous_secret_expires_at,
                    Event.id.label("event_id"),
                    Event.type,
                    Event.occurred_at,
                    Event.data,
                )
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(Event, Event.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.id.in_(ids))
            )
        ).all()
        await session.commit()
    return [
        _Claimed(
            delivery_id=row.id,
            attempts=row.attempts,
            endpoint_id=row.endpoint_id,
            url=row.url,
            signing_secrets=secrets_in_force(
                row.secret, row.previous_secret, row.previous_secret_expires_at, now
            ),
            event_id=row.event_id,
            content=signing.body(row.event_id, row.type, row.occurred_at, row.data),
        )
        for row in rows
    ]


async def _send_all(
    client: httpx.AsyncClient, claimed: list[_Claimed], settings: Settings, clock: Clock
) -> list[tuple[_Claimed, Attempt]]:
    gate = asyncio.Semaphore(settings.webhook_concurrency)

    async def one(item: _Claimed) -> tuple[_Claimed, Attempt]:
        async with gate:
            attempt = await send(
                client,
                url=item.url,
                signing_secrets=item.signing_secrets,
                message_id=item.event_id,
                content=item.content,
                clock=clock,
                timeout=settings.webhook_timeout_seconds,
                allow_private=settings.webhook_allow_private_urls,
            )
            return item, attempt

    return list(await asyncio.gather(*(one(item) for item in claimed)))


def _outcome(attempt: Attempt, attempts: int, delays: tuple[int, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": attempt.attempted_at,
        "last_status_code": attempt.status_code,
        "last_duration_ms": attempt.duration_ms,
        "last_error": attempt.error,
        "lease_expires_at": None,
    }
    if attempt.delivered:
        values.update(status="delivered", delivered_at=attempt.attempted_at, next_attempt_at=None)
    elif not attempt.gone and attempts <= len(delays):
        next_at = attempt.attempted_at + timedelta(seconds=delays[attempts - 1])
        values.update(status="pending", next_attempt_at=next_at)
    else:
        values.update(status="failed", next_attempt_at=None)
    return values


async def _record(
    session: AsyncSession,
    results: list[tuple[_Claimed, Attempt]],
    settings: Settings,
    clock: Clock,
) -> None:
    by_endpoint: dict[str, list[Attempt]] = defaultdict(list)
    # One executemany per shape of outcome, not one statement per delivery. Core, not the
    # ORM's bulk UPDATE: a delivery whose endpoint was deleted meanwhile is simply gone,
    # where the ORM would raise StaleDataError for the row it did not find.
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for item, attempt in results:
        by_endpoint[item.endpoint_id].append(attempt)
        values = _outcome(attempt, item.attempts + 1, settings.webhook_retry_delays)
        shapes[tuple(sorted(values))].append(
            {"b_id": item.delivery_id, **{f"b_{k}": v for k, v in values.items()}}
        )
    table = cast(Table, WebhookDelivery.__table__)
    for keys, rows in shapes.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({key: bindparam(f"b_{key}") for key in keys})
        )
        await session.execute(statement, rows)
    for endpoint_id, attempts in by_endpoint.items():
        await _endpoint_health(session, endpoint_id, attempts, clock)


async def _endpoint_health(
    session: AsyncSession, endpoint_id: str, attempts: list[Attempt], clock: Clock
) -> None:
    if any(a.gone for a in attempts):
        await disable_endpoint(session, endpoint_id, "The endpoint answered 410 Gone.", clock)
        return
    if any(a.delivered for a in attempts):
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
        return
    first = min(a.attempted_at for a in attempts)
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
        .values(failing_since=first)
        .execution_options(synchronize_session=False)
    )
    since = await session.scalar(
        select(WebhookEndpoint.failing_since).where(WebhookEndpoint.id == endpoint_id)
    )
    last = max(a.attempted_at for a in attempts)
    if since is not None and last - since >= DISABLE_AFTER:
        await disable_endpoint(
            session,
            endpoint_id,
            f"Every attempt failed for {DISABLE_AFTER.days} days.",
            clock,
        )
