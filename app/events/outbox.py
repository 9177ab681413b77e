"""Recording events. Features call :func:`record_event` from the same session as their change.

The caller hands in the resource as its GET would return it (a pydantic model or a
JSON-ready mapping); it is stored as JSON, so that the event reads the same later,
whatever changed since, and whatever database stores it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.commit_writes import insert_at_commit
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


_EVENTS = cast(Table, Event.__table__)


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
) -> str:
    """Adds the event to the session's transaction: it is written by the commit, with
    the transaction's other such rows (app/core/commit_writes.py), or rolls back with
    it. Returns its id."""
    event_id = new_id("evt")
    insert_at_commit(
        session,
        _EVENTS,
        {
            "id": event_id,
            "type": type.value,
            "occurred_at": clock.now(),
            "customer_id": customer_id,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "data": json_data(data),
            "request_id": request_id,
            "dispatched_at": None,
        },
    )
    return event_id


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One of many events of one type recorded at once (:func:`record_many`); ``data``
    is JSON-ready already (the bulk caller builds it so, cheaply)."""

    resource_id: str
    customer_id: str | None
    data: Mapping[str, Any]


_COLUMNS = (
    "id",
    "type",
    "occurred_at",
    "customer_id",
    "resource_type",
    "resource_id",
    "data",
    "request_id",
)


async def record_many(
    session: AsyncSession,
    *,
    clock: Clock,
    type: EventType,
    resource_type: str,
    occurrences: Sequence[Occurrence],
    request_id: str | None = None,
) -> int:
    """Adds many events to the session's transaction in one statement: COPY on
    PostgreSQL, one executemany on SQLite (the bill run records an ``invoice.issued``
    per invoice without slowing down). Returns how many were recorded."""
    if not occurrences:
        return 0
    now = clock.now()
    rows = [
        (new_id("evt"), type.value, now, o.customer_id, resource_type, o.resource_id, o.data)
        for o in occurrences
    ]
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(
            "events",
            # asyncpg takes a json column's value as its text.
            records=[(*r[:6], json.dumps(r[6], ensure_ascii=False), request_id) for r in rows],
            columns=_COLUMNS,
        )
        return len(rows)
    await session.execute(
        insert(_EVENTS), [dict(zip(_COLUMNS, (*r, request_id), strict=True)) for r in rows]
    )
    return len(rows)
