"""Reading the outbox in the event tests: what a change recorded, and whether it is
exactly what the resource's GET answers."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from app.events.models import Event
from tests.support.databases import BoundDatabase

Headers = dict[str, str]
Body = dict[str, Any]


async def stored(
    database: BoundDatabase, resource_id: str | None = None, type: str | None = None
) -> list[Event]:
    """The outbox events (of one resource, of one type), in the order they were written."""
    stmt = select(Event).order_by(Event.id)
    if resource_id is not None:
        stmt = stmt.where(Event.resource_id == resource_id)
    if type is not None:
        stmt = stmt.where(Event.type == type)
    async with database.sessionmaker() as session:
        return list((await session.scalars(stmt)).all())


async def total(database: BoundDatabase) -> int:
    async with database.sessionmaker() as session:
        return (await session.scalar(select(func.count()).select_from(Event))) or 0


async def types_of(database: BoundDatabase, resource_id: str) -> list[str]:
    return [e.type for e in await stored(database, resource_id)]


async def get(client: httpx.AsyncClient, path: str, headers: Headers) -> Body:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


async def only(database: BoundDatabase, resource_id: str, type: str) -> Event:
    """The one event of ``type`` the resource has."""
    events = await stored(database, resource_id, type)
    assert len(events) == 1, [e.type for e in events]
    return events[0]


async def latest_is_get(
    client: httpx.AsyncClient,
    database: BoundDatabase,
    headers: Headers,
    *,
    type: str,
    path: str,
) -> Event:
    """The resource's latest event is of ``type`` and its data is the GET of ``path`` now."""
    resource_id = path.rstrip("/").rsplit("/", 1)[-1]
    events = await stored(database, resource_id)
    assert events, f"no event for {resource_id}"
    assert events[-1].type == type, [e.type for e in events]
    assert events[-1].data == await get(client, path, headers)
    return events[-1]
