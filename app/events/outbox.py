"""Recording events. Features call :func:`record_event` from the same session as their change.

The caller hands in the resource as its GET would return it (a pydantic model or a
JSON-ready mapping); it is stored as JSON, so that the event reads the same later,
whatever changed since, and whatever database stores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.ids import new_id
from app.events.catalogue import EventType
from app.events.models import Event

_PLAIN = TypeAdapter(dict[str, Any])


def json_data(resource: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """The resource as JSON-ready data: dates, enums and decimals become text."""
    if isinstance(resource, BaseModel):
        return resource.model_dump(mode="json")
    dumped: dict[str, Any] = _PLAIN.dump_python(dict(resource), mode="json")
    return dumped


async def record_event(
    session: AsyncSession,
    *,
    clock: Clock,
    type: EventType,
    resource_type: str,
    resource_id: str,
    data: BaseModel | Mapping[str, Any],
    customer_id: str | None,
    request_id: str | None = None,
) -> Event:
    """Adds the event to the session's transaction; it commits or rolls back with it."""
    event = Event(
        id=new_id("evt"),
        type=type.value,
        occurred_at=clock.now(),
        customer_id=customer_id,
        resource_type=resource_type,
        resource_id=resource_id,
        data=json_data(data),
        request_id=request_id,
    )
    session.add(event)
    await session.flush()
    return event
