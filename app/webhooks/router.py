from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from app.auth.dependencies import AdminKey
from app.core.database import Database, SessionDep, get_database
from app.core.http import ClockDep
from app.core.openapi import documents
from app.core.pagination import Page, PageParamsDep
from app.core.settings import Settings
from app.webhooks import service
from app.webhooks.schemas import (
    DeliveryStatus,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointWithSecret,
    WebhookTestResult,
)

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"])
EndpointID = Annotated[str, Path(max_length=40, description="The webhook endpoint's id.")]
DeliveryID = Annotated[str, Path(max_length=40, description="The delivery's id.")]
DatabaseDep = Annotated[Database, Depends(get_database)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def _with_secret(endpoint: object, secret: str) -> WebhookEndpointWithSecret:
    read = WebhookEndpointRead.model_validate(endpoint)
    return WebhookEndpointWithSecret(**read.model_dump(), secret=secret)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointWithSecret,
    operation_id="webhook-endpoints-create",
    summary="Register a webhook endpoint",
    openapi_extra=documents(location=True),
)
async def create_webhook_endpoint(
    data: WebhookEndpointCreate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    actor: AdminKey,
    response: Response,
) -> WebhookEndpointWithSecret:
    """The events of the listed types are sent to `url`, signed (Standard Webhooks) with
    the `secret` of this answer, shown once. The URL must be a public `https` one: `http`
    and private, loopback or link-local targets (after DNS) are a 422
    `webhook_url_not_allowed`."""
    endpoint, secret = await service.create_endpoint(session, data, settings, clock, actor)
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    return _with_secret(endpoint, secret)


@router.get(
    "",
    response_model=Page[WebhookEndpointRead],
    operation_id="webhook-endpoints-list",
    summary="List webhook endpoints",
)
async def list_webhook_endpoints(
    session: SessionDep, page: PageParamsDep, _: AdminKey
) -> Page[WebhookEndpointRead]:
    """Newest first; no secret is shown."""
    endpoints, cursor = await service.list_endpoints(session, page)
    return Page(
        items=[WebhookEndpointRead.model_validate(e) for e in endpoints], next_cursor=cursor
    )


@router.get(
    "/{endpoint_id}",
    response_model=WebhookEndpointRead,
    operation_id="webhook-endpoints-get",
    summary="Read a webhook endpoint",
)
async def get_webhook_endpoint(
    endpoint_id: EndpointID, session: SessionDep, _: AdminKey
) -> WebhookEndpointRead:
    """Its URL, event types and status (`disabled` says why); never the secret."""
    return WebhookEndpointRead.model_validate(await service.get_endpoint(session, endpoint_id))


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="webhook-endpoints-delete",
    summary="Delete a webhook endpoint",
)
async def delete_webhook_endpoint(
    endpoint_id: EndpointID, session: SessionDep, clock: ClockDep, actor: AdminKey
) -> Response:
    """Nothing more is sent to it; its deliveries are deleted with it."""
    await service.delete_endpoint(session, endpoint_id, clock, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=WebhookEndpointWithSecret,
    operation_id="webhook-endpoints-rotate-secret",
    summary="Rotate a webhook endpoint's signing secret",
)
async def rotate_webhook_secret(
    endpoint_id: EndpointID, session: SessionDep, clock: ClockDep, actor: AdminKey
) -> WebhookEndpointWithSecret:
    """A new `secret` (shown once) signs from now on; for 24 h the old one signs alongside
    it (two `v1,` signatures in `webhook-signature`), until `previous_secret_expires_at`."""
    endpoint, secret = await service.rotate_secret(session, endpoint_id, clock, actor)
    return _with_secret(endpoint, secret)


@router.post(
    "/{endpoint_id}/test",
    response_model=WebhookTestResult,
    operation_id="webhook-endpoints-test",
    summary="Send a test ping to a webhook endpoint",
    openapi_extra=documents(503),
)
async def ping_webhook_endpoint(
    endpoint_id: EndpointID,
    database: DatabaseDep,
    clock: ClockDep,
    settings: SettingsDep,
    _: AdminKey,
) -> WebhookTestResult:
    """Sends a signed `webhook_endpoint.test` message now (not retried) and answers how
    the endpoint took it: its status code, the time it took, the error."""
    return await service.ping(database, endpoint_id, settings, clock)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=Page[WebhookDeliveryRead],
    operation_id="webhook-endpoints-deliveries",
    summary="List a webhook endpoint's deliveries",
)
async def list_webhook_deliveries(
    endpoint_id: EndpointID,
    session: SessionDep,
    page: PageParamsDep,
    _: AdminKey,
    status: Annotated[DeliveryStatus | None, Query(description="Only these.")] = None,
) -> Page[WebhookDeliveryRead]:
    """Newest first: the event id and type, attempts so far, the last attempt's status
    code, duration and error, and when the next attempt is due."""
    deliveries, cursor = await service.list_deliveries(session, endpoint_id, page, status)
    return Page(
        items=[WebhookDeliveryRead.model_validate(d) for d in deliveries], next_cursor=cursor
    )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookDeliveryRead,
    operation_id="webhook-endpoints-deliveries-retry",
    summary="Deliver an event to a webhook endpoint again",
    openapi_extra=documents(409),
)
async def retry_webhook_delivery(
    endpoint_id: EndpointID,
    delivery_id: DeliveryID,
    session: SessionDep,
    clock: ClockDep,
    actor: AdminKey,
) -> WebhookDeliveryRead:
    """The delivery is due now, whatever its status; the next delivery loop sends it. A
    disabled endpoint is a 409 `webhook_endpoint_disabled`."""
    delivery = await service.retry_delivery(session, endpoint_id, delivery_id, clock, actor)
    return WebhookDeliveryRead.model_validate(delivery)
