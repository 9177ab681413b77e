from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.events.catalogue import EventType

EndpointStatus = Literal["enabled", "disabled"]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.example.co.jp/hooks/scms",
                    "events": ["contract.accepted", "invoice.issued", "invoice.paid"],
                    "description": "Salesforce 連携",
                }
            ]
        },
    )

    url: str = Field(
        min_length=1,
        max_length=2048,
        examples=["https://crm.example.co.jp/hooks/scms"],
        description="A public https URL (checked again, after DNS, before every attempt).",
    )
    events: list[EventType] = Field(
        min_length=1,
        max_length=len(EventType),
        description="The event types this endpoint receives.",
        examples=[["contract.accepted", "invoice.issued"]],
    )
    description: str | None = Field(default=None, max_length=500)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[EventType]) -> list[EventType]:
        if len(set(value)) != len(value):
            raise ValueError("each event type at most once")
        return value


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    events: list[str]
    status: EndpointStatus = Field(
        description="`disabled` after a 410 or 5 days of failures; nothing is sent to it."
    )
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the secret before the last rotation signs alongside the new one."
    )
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointRead):
    secret: str = Field(
        description="The signing secret (`whsec_…`). Shown in this answer only.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookTestResult(BaseModel):
    webhook_id: str = Field(description="The `webhook-id` the ping was sent with.")
    delivered: bool = Field(description="The endpoint answered 2xx in time.")
    status_code: int | None
    duration_ms: int
    error: str | None


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    endpoint_id: str
    event_id: str = Field(description="Also the `webhook-id` header: receivers dedupe on it.")
    event_type: str
    status: DeliveryStatus = Field(
        description="`pending` until a 2xx (retried on a schedule), `failed` after the last "
        "retry (a manual retry sends it again)."
    )
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_duration_ms: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
