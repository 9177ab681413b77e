"""issue 12 §2: an event is written in the same transaction as its change."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FixedClock
from app.events.catalogue import EventType
from app.events.models import Event
from app.events.outbox import json_data, record_event
from tests.support.databases import BoundDatabase


class Colour(StrEnum):
    RED = "red"


class Thing(BaseModel):
    id: str
    on: date
    colour: Colour


async def count(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(Event))).scalar_one()


def test_json_data_turns_dates_and_enums_into_text() -> None:
    thing = Thing(id="x", on=date(2028, 2, 29), colour=Colour.RED)
    expected = {"id": "x", "on": "2028-02-29", "colour": "red"}
    assert json_data(thing) == expected
    assert json_data({"id": "x", "on": date(2028, 2, 29), "colour": Colour.RED}) == expected


async def test_an_event_commits_with_its_change(database: BoundDatabase, clock: FixedClock) -> None:
    async with database.sessionmaker() as session:
        event_id = await record_event(
            session,
            clock=clock,
            type=EventType.CUSTOMER_CREATED,
            resource_type="customer",
            resource_id="cus_1",
            data={"id": "cus_1", "name": "株式会社テスト"},
            customer_id="cus_1",
            request_id="req-1",
        )
        await session.commit()
    async with database.sessionmaker() as session:
        stored = await session.get(Event, event_id)
        assert stored is not None
        assert (stored.type, stored.customer_id, stored.resource_id) == (
            "customer.created",
            "cus_1",
            "cus_1",
        )
        assert stored.data == {"id": "cus_1", "name": "株式会社テスト"}
        assert stored.occurred_at == clock.now()
        assert stored.id.startswith("evt_")


async def test_a_change_that_rolls_back_leaves_no_event(
    database: BoundDatabase, clock: FixedClock
) -> None:
    async with database.sessionmaker() as session:
        before = await count(session)

    async def change_that_fails() -> None:
        async with database.sessionmaker() as session, session.begin():
            await record_event(
                session,
                clock=clock,
                type=EventType.INVOICE_ISSUED,
                resource_type="invoice",
                resource_id="inv_1",
                data={"id": "inv_1"},
                customer_id=None,
            )
            raise RuntimeError("the change failed half-way")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    async with database.sessionmaker() as session:
        assert await count(session) == before
