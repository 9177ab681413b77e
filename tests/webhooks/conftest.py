from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from app.core.clock import FixedClock
from app.core.ids import new_id
from app.core.settings import Settings
from app.events.catalogue import EventType
from app.events.models import Event
from app.events.outbox import record_event
from app.main import create_app
from app.webhooks.models import WebhookEndpoint
from app.webhooks.signing import new_secret
from tests.support.databases import BoundDatabase
from tests.webhooks.receiver import Receiver


@pytest.fixture
def now_clock() -> FixedClock:
    """Close to the real time: standardwebhooks verifies a timestamp within 5 minutes."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def hook_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_api_key=None,
        log_level="WARNING",
        webhook_allow_private_urls=True,
        webhook_retry_delays=(5, 300, 1800),
        webhook_timeout_seconds=1,
    )


@pytest.fixture
def hook_app(hook_settings: Settings, database: BoundDatabase, now_clock: FixedClock) -> FastAPI:
    return create_app(hook_settings, database=database, clock=now_clock)


@pytest.fixture
async def hook_client(hook_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hook_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://scms.test") as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def add_endpoint(
    database: BoundDatabase,
    clock: FixedClock,
    url: str,
    events: list[EventType],
    *,
    secret: str | None = None,
) -> WebhookEndpoint:
    """An endpoint stored directly (the URL policy is the API's, tested on its own)."""
    now = clock.now()
    endpoint = WebhookEndpoint(
        id=new_id("whe"),
        url=url,
        description=None,
        events=[e.value for e in events],
        status="enabled",
        secret=secret or new_secret(),
        created_at=now,
        updated_at=now,
    )
    async with database.sessionmaker() as session:
        session.add(endpoint)
        await session.commit()
    return endpoint


async def add_event(
    database: BoundDatabase,
    clock: FixedClock,
    type: EventType = EventType.CUSTOMER_CREATED,
    **data: object,
) -> Event:
    async with database.sessionmaker() as session:
        event_id = await record_event(
            session,
            clock=clock,
            type=type,
            resource_type="customer",
            resource_id="cus_1",
            data={"id": "cus_1", "name": "株式会社テスト", **data},
            customer_id="cus_1",
        )
        await session.commit()
        event = await session.get(Event, event_id)
    assert event is not None
    return event
