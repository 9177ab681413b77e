"""The event history (issue 12 §2): a client that missed webhooks catches up here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.auth.dependencies import require
from app.auth.roles import Role
from app.auth.service import Principal
from app.core.database import SessionDep
from app.core.errors import NotFound
from app.core.pagination import Page, PageParamsDep
from app.events.catalogue import EventType
from app.events.repository import EventRepository
from app.events.schemas import Instant, OutboxEventRead, to_read

router = APIRouter(prefix="/v1/events", tags=["events"])
EventID = Annotated[str, Path(max_length=40)]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.CRM, Role.PORTAL))]


def _scope(actor: Principal) -> str | None:
    """R-PTN-3: a portal key sees its own customer's events only (None: all of them)."""
    if actor.role is not Role.PORTAL:
        return None
    # A portal key is always bound to a customer; one that were not would see nothing.
    return actor.customer_id or ""


@router.get("", operation_id="events-list", summary="List events")
async def list_events(
    session: SessionDep,
    page: PageParamsDep,
    actor: Reader,
    type: Annotated[EventType | None, Query(description="Only events of this type.")] = None,
    since: Annotated[
        Instant | None,
        Query(description="Only events at or after this instant (RFC 3339, with offset)."),
    ] = None,
) -> Page[OutboxEventRead]:
    """Newest first. Each event carries the resource as its GET returned it when the
    change committed. A portal key sees only its own customer's events."""
    events, cursor = await EventRepository(session).page(
        page, type=type, since=since, customer_id=_scope(actor)
    )
    return Page(items=[to_read(e) for e in events], next_cursor=cursor)


@router.get("/{event_id}", operation_id="events-get", summary="Read an event")
async def get_event(event_id: EventID, session: SessionDep, actor: Reader) -> OutboxEventRead:
    """One event; another customer's is a 404 for a portal key."""
    event = await EventRepository(session).get(event_id)
    scope = _scope(actor)
    if event is None or scope not in (None, event.customer_id):
        raise NotFound(f"No event {event_id}.", code="event_not_found")
    return to_read(event)
