from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, paginate
from app.events.catalogue import EventType
from app.events.models import Event


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, event_id: str) -> Event | None:
        return await self.session.get(Event, event_id)

    async def page(
        self,
        params: PageParams,
        *,
        type: EventType | None,
        since: datetime | None,
        customer_id: str | None,
    ) -> tuple[list[Event], str | None]:
        """Newest first (ids are time-ordered); ``customer_id`` limits to one customer's."""
        stmt = select(Event)
        if type is not None:
            stmt = stmt.where(Event.type == type.value)
        if since is not None:
            stmt = stmt.where(Event.occurred_at >= since)
        if customer_id is not None:
            stmt = stmt.where(Event.customer_id == customer_id)
        return await paginate(
            self.session, stmt, keys=[Event.id], key_of=lambda e: [e.id], params=params
        )
