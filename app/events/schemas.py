"""What a client reads of an event (issue 12 §2): ``{id, type, timestamp, data}``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

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


def _in_utc(value: datetime) -> datetime:
    """An instant that has a UTC value (``0001-01-01T00:00+09:00`` has none): a 422, not
    an overflow in the database driver."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the instant is out of range") from exc


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
