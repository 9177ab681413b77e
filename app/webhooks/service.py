"""Webhook endpoints (admins): register, list, delete, rotate the secret, ping, redeliver."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Principal
from app.core.clock import Clock
from app.core.database import Database
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.ids import new_id
from app.core.pagination import PageParams, paginate
from app.core.settings import Settings
from app.events.catalogue import EventType
from app.events.outbox import record_event
from app.webhooks import signing
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import (
    DeliveryStatus,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookTestResult,
)
from app.webhooks.sender import new_client, secrets_in_force, send
from app.webhooks.urls import UrlRefused, check_url

ROTATION_OVERLAP = timedelta(hours=24)
PING_TYPE = "webhook_endpoint.test"


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    # The operation log never holds a signing secret.
    secret_columns = {"secret", "previous_secret"}
    return {k: v for k, v in audit.snapshot(endpoint).items() if k not in secret_columns}


async def _audit(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    action: str,
    endpoint: WebhookEndpoint,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await audit.record(
        session,
        clock=clock,
        actor_key_id=actor.key_id,
        action=f"webhook_endpoints.{action}",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        before=before,
        after=after,
        request_id=actor.request_id,
    )


async def allowed_url(url: str, settings: Settings) -> None:
    """422 ``webhook_url_not_allowed`` unless the URL is a public https target."""
    try:
        await check_url(url, allow_private=settings.webhook_allow_private_urls)
    except UrlRefused as exc:
        raise Unprocessable(
            f"Webhooks are not sent to {url}: {exc}.",
            code="webhook_url_not_allowed",
            field="url",
            reason=str(exc),
        ) from None


async def create_endpoint(
    session: AsyncSession,
    data: WebhookEndpointCreate,
    settings: Settings,
    clock: Clock,
    actor: Principal,
) -> tuple[WebhookEndpoint, str]:
    # Before the first statement: the DNS answer is awaited outside any transaction.
    await allowed_url(data.url, settings)
    now = clock.now()
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        id=new_id("whe"),
        url=data.url,
        description=data.description,
        events=[t.value for t in data.events],
        status="enabled",
        secret=secret,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    await _audit(session, clock, actor, "create", endpoint, None, _audited(endpoint))
    return endpoint, secret


async def get_endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.", code="webhook_endpoint_not_found")
    return endpoint


async def list_endpoints(
    session: AsyncSession, page: PageParams
) -> tuple[list[WebhookEndpoint], str | None]:
    return await paginate(
        session,
        select(WebhookEndpoint),
        keys=[WebhookEndpoint.id],
        key_of=lambda e: [e.id],
        params=page,
    )


async def delete_endpoint(
    session: AsyncSession, endpoint_id: str, clock: Clock, actor: Principal
) -> None:
    """The endpoint and its deliveries go; nothing more is sent to it."""
    endpoint = await get_endpoint(session, endpoint_id)
    before = _audited(endpoint)
    await session.delete(endpoint)
    await session.flush()
    await _audit(session, clock, actor, "delete", endpoint, before, None)


async def rotate_secret(
    session: AsyncSession, endpoint_id: str, clock: Clock, actor: Principal
) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the replaced one signs alongside it for 24 h.

    Rotating again within those 24 h retires the older one at once: two secrets at most.
    """
    endpoint = await get_endpoint(session, endpoint_id)
    before = _audited(endpoint)
    now = clock.now()
    secret = signing.new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = secret
    endpoint.updated_at = now
    await session.flush()
    await _audit(session, clock, actor, "rotate_secret", endpoint, before, _audited(endpoint))
    return endpoint, secret


async def list_deliveries(
    session: AsyncSession, endpoint_id: str, page: PageParams, status: DeliveryStatus | None
) -> tuple[list[WebhookDelivery], str | None]:
    await get_endpoint(session, endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return await paginate(
        session, stmt, keys=[WebhookDelivery.id], key_of=lambda d: [d.id], params=page
    )


async def retry_delivery(
    session: AsyncSession, endpoint_id: str, delivery_id: str, clock: Clock, actor: Principal
) -> WebhookDelivery:
    """Due now again, whatever its status: the next delivery loop sends it (once more)."""
    endpoint = await get_endpoint(session, endpoint_id)
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(
            f"No delivery {delivery_id} of webhook endpoint {endpoint_id}.",
            code="webhook_delivery_not_found",
        )
    if endpoint.status != "enabled":
        raise Conflict(
            f"Webhook endpoint {endpoint_id} is disabled ({endpoint.disabled_reason}); "
            "register the URL again to receive events.",
            code="webhook_endpoint_disabled",
        )
    before = audit.snapshot(delivery)
    delivery.status = "pending"
    delivery.next_attempt_at = clock.now()
    delivery.lease_expires_at = None
    await session.flush()
    await audit.record(
        session,
        clock=clock,
        actor_key_id=actor.key_id,
        action="webhook_deliveries.retry",
        resource_type="webhook_delivery",
        resource_id=delivery.id,
        before=before,
        after=audit.snapshot(delivery),
        request_id=actor.request_id,
    )
    return delivery


async def ping(
    database: Database, endpoint_id: str, settings: Settings, clock: Clock
) -> WebhookTestResult:
    """Send a signed ``webhook_endpoint.test`` message now and say how it went.

    The endpoint is read in a short session of its own: no transaction stays open (on
    SQLite, no write lock is held) while the receiver takes its time.
    """
    async with database.sessionmaker() as session:
        endpoint = await get_endpoint(session, endpoint_id)
    now = clock.now()
    message_id = new_id("msg")
    content = signing.body(message_id, PING_TYPE, now, {"endpoint_id": endpoint.id})
    async with new_client() as client:
        attempt = await send(
            client,
            url=endpoint.url,
            signing_secrets=secrets_in_force(
                endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_expires_at, now
            ),
            message_id=message_id,
            content=content,
            clock=clock,
            timeout=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private_urls,
        )
    return WebhookTestResult(
        webhook_id=message_id,
        delivered=attempt.delivered,
        status_code=attempt.status_code,
        duration_ms=attempt.duration_ms,
        error=attempt.error,
    )


async def disable_endpoint(
    session: AsyncSession, endpoint_id: str, reason: str, clock: Clock
) -> bool:
    """Disable the endpoint once, recording ``webhook_endpoint.disabled`` in the same
    transaction; False when it was no longer enabled (another worker got there first)."""
    now = clock.now()
    result = await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.status == "enabled")
        .values(status="disabled", disabled_at=now, disabled_reason=reason[:200], updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    endpoint = await session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    assert endpoint is not None
    await record_event(
        session,
        clock=clock,
        type=EventType.WEBHOOK_ENDPOINT_DISABLED,
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        data=WebhookEndpointRead.model_validate(endpoint),
        customer_id=None,
    )
    return True
