"""What a client reads of an event (issue 12 §2): ``{id, type, timestamp, data}``."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, WithJsonSchema

from app.core.validation import FIRST_BUSINESS_DAY, OUTER_LAST_BUSINESS_DAY
from app.events.models import Event


class OutboxEventRead(BaseModel):
    """An event as clients read it (and webhooks carry it): `{id, type, timestamp, data}`."""

    id: str = Field(description="`evt_…`; webhook deliveries carry it as `webhook-id`.")
    type: str = Field(description="`<resource>.<what happened>`; see docs/events.md.")
    timestamp: datetime = Field(description="When the change committed its transaction's work.")
    data: dict[str, Any] = Field(
        description="The resource as its GET returned it at that moment (never updated)."
    )


def to_read(event: Event) -> OutboxEventRead:
    return OutboxEventRead(
        id=event.id, type=event.type, timestamp=event.occurred_at, data=event.data
    )


# The instants a request may name: the business window's outer bounds, in UTC.
EARLIEST = datetime.combine(FIRST_BUSINESS_DAY, time.min, UTC)
LATEST = datetime.combine(OUTER_LAST_BUSINESS_DAY, time(23, 59, 59), UTC)


def _in_range(value: datetime) -> datetime:
    """An instant from 2000 to 2099 (UTC); ``0001-01-01T00:00+09:00``, which has no UTC
    value, is a 422 too, not an overflow in the database driver."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"the instant must be from {EARLIEST} to {LATEST}") from exc
    if not EARLIEST <= utc <= LATEST:
        raise ValueError(f"the instant must be from {EARLIEST} to {LATEST}")
    return utc


Instant = Annotated[
    AwareDatetime,
    AfterValidator(_in_range),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "formatMinimum": "2000-01-01T00:00:00Z",
            "formatMaximum": "2099-12-31T23:59:59Z",
        }
    ),
]
"""An instant of a request (RFC 3339 with its offset), between 2000 and 2099 UTC."""
